/**
 * Crash safety of the real `tideway dwh-loader` process: it is killed with SIGKILL several
 * times while it works through a pre-filled 3-partition topic, and restarted each time. The
 * upsert table must equal the state the workload describes, and the history table must hold
 * every change exactly once (no loss, no duplicate).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from 'pg';
import { TidewayProcess } from '../../../test-support/tideway-process';
import { dropSchema, eventually, suffix, TopicScope, warehouseClient, WAREHOUSE_URL } from './harness';
import { mixedWorkload, sortedRows } from './workload';

jest.setTimeout(600_000);

const EVENTS = 12_000;
const KEYS = 800;
const KILLS = 3;

describe('dwh-loader killed with SIGKILL mid-batch', () => {
  const topics = new TopicScope();
  let db: Client;
  const schemas: string[] = [];
  const procs: TidewayProcess[] = [];

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(__dirname, '../../../node_modules/typescript/bin/tsc'), '-b', join(__dirname, '..')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    await topics.open();
    db = await warehouseClient();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    for (const s of schemas) await dropSchema(s);
    await db.end();
    await topics.close();
  });

  it('ends with the warehouse equal to the source and no duplicates', async () => {
    const topic = await topics.topic('dwh-crash', 3);
    const work = mixedWorkload(topic, KEYS, EVENTS, 42);
    for (let i = 0; i < work.messages.length; i += 1000) await topics.producer.send(work.messages.slice(i, i + 1000));

    const modes = { upsert: `dwh_crash_u_${suffix()}`, history: `dwh_crash_h_${suffix()}` } as const;
    schemas.push(modes.upsert, modes.history);
    const envFor = (mode: 'upsert' | 'history') => ({
      DWH_TOPICS: topic,
      DWH_SCHEMA: modes[mode],
      DWH_MODE: mode,
      DWH_GROUP_ID: `${modes[mode]}-group`,
      DWH_DATABASE_URL: WAREHOUSE_URL,
      // Small batches: many transactions, so a kill lands inside one.
      DWH_BATCH_MAX_ROWS: '150',
      DWH_BATCH_MAX_BYTES: '65536',
      // A killed loader holds its partitions until its session times out: keep that short.
      DWH_SESSION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    });
    const stored = async (schema: string) => {
      const r = await db.query(`SELECT coalesce(sum(next_offset),0)::int AS n FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [{ n: 0 }] }));
      return Number(r.rows[0].n);
    };
    const start = async (mode: 'upsert' | 'history') => {
      const p = await TidewayProcess.start('dwh-loader', envFor(mode));
      procs.push(p);
      await p.waitReady();
      return p;
    };

    // Each loader is killed KILLS times, each time after it made visible progress of its own,
    // so every kill lands while it is working through the topic.
    const crashCycle = async (mode: 'upsert' | 'history') => {
      const progressAtKill: number[] = [];
      let proc = await start(mode);
      for (let k = 1; k <= KILLS; k++) {
        const target = Math.floor((EVENTS * k) / (KILLS + 1));
        await eventually(async () => (await stored(modes[mode])) >= target, async () => `${mode}: stored ${await stored(modes[mode])}, want ${target}\n${proc.logs(20)}`, 240_000);
        await proc.kill();
        progressAtKill.push(await stored(modes[mode]));
        proc = await start(mode);
      }
      await eventually(async () => (await stored(modes[mode])) === EVENTS, async () => `${mode}: stored ${await stored(modes[mode])} of ${EVENTS}\n${proc.logs(20)}`, 300_000);
      expect(await proc.stop()).toBe(0);
      return progressAtKill;
    };
    const [upsertKills, historyKills] = await Promise.all([crashCycle('upsert'), crashCycle('history')]);
    // Every kill happened with work left (not after the end).
    for (const at of [...upsertKills, ...historyKills]) expect(at).toBeLessThan(EVENTS);

    const got = await db.query(`SELECT id, holder, premium::text AS premium, version FROM "${modes.upsert}".policies ORDER BY id`);
    expect(got.rows).toEqual(sortedRows(work.expected));

    const h = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT (_tideway_partition, _tideway_offset))::int AS distinct_offsets FROM "${modes.history}".policies`,
    );
    expect(h.rows[0]).toEqual({ n: EVENTS, distinct_offsets: EVENTS });
    console.log(`stored offsets at each kill: upsert ${JSON.stringify(upsertKills)}, history ${JSON.stringify(historyKills)}`);
  });
});
