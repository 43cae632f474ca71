/**
 * Crash safety of the real `tideway dwh-loader` process: it is killed with SIGKILL several
 * times while a batch transaction is open in the warehouse, and restarted each time. The
 * upsert table must equal the state the workload describes, and the history table must hold
 * every change exactly once (no loss, no duplicate).
 *
 * Each kill lands at a known point, whatever the machine's speed: the test holds a lock on the
 * target table, hands the loader more records, and kills it once its transaction is waiting
 * for that lock (rows of the batch sent, offsets not yet written).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from 'pg';
import { TidewayProcess } from '../../../test-support/tideway-process';
import { dropSchema, eventually, kafka, suffix, TopicScope, warehouseClient, WAREHOUSE_URL } from './harness';
import { mixedWorkload, sortedRows } from './workload';

jest.setTimeout(600_000);

const EVENTS = 12_000;
const KEYS = 800;
const KILLS = 3;
const CHUNK = EVENTS / (KILLS + 1);

type Mode = 'upsert' | 'history';

describe('dwh-loader killed with SIGKILL mid-batch', () => {
  const topics = new TopicScope();
  let db: Client;
  const schemas: string[] = [];
  const procs: TidewayProcess[] = [];
  const lockHolders: Client[] = [];
  // A producer per loader: the two cycles send at the same time.
  const producers = { upsert: kafka.producer({ idempotent: true }), history: kafka.producer({ idempotent: true }) };

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(__dirname, '../../../node_modules/typescript/bin/tsc'), '-b', join(__dirname, '..')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    await topics.open();
    await Promise.all(Object.values(producers).map((p) => p.connect()));
    db = await warehouseClient();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    for (const c of lockHolders) await c.end().catch(() => undefined); // already ended by the test when it passed
    for (const s of schemas) await dropSchema(s);
    await db.end();
    await Promise.all(Object.values(producers).map((p) => p.disconnect()));
    await topics.close();
  });

  it('ends with the warehouse equal to the source and no duplicates', async () => {
    const modes = { upsert: `dwh_crash_u_${suffix()}`, history: `dwh_crash_h_${suffix()}` } as const;
    schemas.push(modes.upsert, modes.history);
    // One topic per loader, same workload: each loader is handed its records at its own pace.
    const topicOf = { upsert: await topics.topic('dwh-crash-u', 3), history: await topics.topic('dwh-crash-h', 3) };
    const work = { upsert: mixedWorkload(topicOf.upsert, KEYS, EVENTS, 42), history: mixedWorkload(topicOf.history, KEYS, EVENTS, 42) };
    const produceChunk = async (mode: Mode, k: number) => {
      const chunk = work[mode].messages.slice(k * CHUNK, (k + 1) * CHUNK);
      for (let i = 0; i < chunk.length; i += 1000) await producers[mode].send(chunk.slice(i, i + 1000));
    };

    const envFor = (mode: Mode) => ({
      DWH_TOPICS: topicOf[mode],
      DWH_SCHEMA: modes[mode],
      DWH_MODE: mode,
      DWH_GROUP_ID: `${modes[mode]}-group`,
      DWH_DATABASE_URL: WAREHOUSE_URL,
      // Small batches: many transactions per chunk.
      DWH_BATCH_MAX_ROWS: '150',
      DWH_BATCH_MAX_BYTES: '65536',
      // A killed loader holds its partitions until its session times out: keep that short.
      DWH_SESSION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    });
    const stored = async (mode: Mode) => {
      const r = await db.query(`SELECT coalesce(sum(next_offset),0)::int AS n FROM "${modes[mode]}"._tideway_offsets`).catch(() => ({ rows: [{ n: 0 }] }));
      return Number(r.rows[0].n);
    };
    const start = async (mode: Mode) => {
      const p = await TidewayProcess.start('dwh-loader', envFor(mode));
      procs.push(p);
      await p.waitReady();
      return p;
    };
    /** Locks the loader's target table in a transaction of the test's own; returns its backend pid. */
    const holdTable = async (mode: Mode) => {
      const holder = await warehouseClient();
      lockHolders.push(holder);
      await holder.query('BEGIN');
      // Conflicts with the ROW EXCLUSIVE lock every INSERT, UPDATE and DELETE takes; reads go on.
      await holder.query(`LOCK TABLE "${modes[mode]}".policies IN SHARE ROW EXCLUSIVE MODE`);
      const pid = Number((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      return { holder, pid };
    };
    const blockedBy = async (pid: number) =>
      Number((await db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid])).rows[0].n);

    const crashCycle = async (mode: Mode) => {
      const storedAtKill: number[] = [];
      await produceChunk(mode, 0);
      let proc = await start(mode);
      for (let k = 1; k <= KILLS; k++) {
        // The restarted loader made progress of its own: everything handed to it so far is stored.
        await eventually(
          async () => (await stored(mode)) >= k * CHUNK,
          async () => `${mode}: stored ${await stored(mode)}, want ${k * CHUNK}\n${proc.logs(20)}`,
          240_000,
        );
        const { holder, pid } = await holdTable(mode);
        await produceChunk(mode, k);
        await eventually(
          async () => (await blockedBy(pid)) > 0,
          async () => `${mode}: no loader transaction waits for the lock\n${proc.logs(20)}`,
          240_000,
        );
        await proc.kill();
        storedAtKill.push(await stored(mode));
        await holder.query('ROLLBACK');
        await holder.end();
        proc = await start(mode);
      }
      // The last chunk was handed over before the last kill: the restarted loader finishes it.
      await eventually(
        async () => (await stored(mode)) === EVENTS,
        async () => `${mode}: stored ${await stored(mode)} of ${EVENTS}\n${proc.logs(20)}`,
        300_000,
      );
      expect(await proc.stop()).toBe(0);
      return storedAtKill;
    };
    const [upsertKills, historyKills] = await Promise.all([crashCycle('upsert'), crashCycle('history')]);
    // Each kill came with a transaction open on chunk k, so exactly the chunks before it were stored.
    const expectedAtKill = Array.from({ length: KILLS }, (_, i) => (i + 1) * CHUNK);
    expect({ upsert: upsertKills, history: historyKills }).toEqual({ upsert: expectedAtKill, history: expectedAtKill });

    const got = await db.query(`SELECT id, holder, premium::text AS premium, version FROM "${modes.upsert}".policies ORDER BY id`);
    expect(got.rows).toEqual(sortedRows(work.upsert.expected));

    const h = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT (_tideway_partition, _tideway_offset))::int AS distinct_offsets FROM "${modes.history}".policies`,
    );
    expect(h.rows[0]).toEqual({ n: EVENTS, distinct_offsets: EVENTS });
  });
});
