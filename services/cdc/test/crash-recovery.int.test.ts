/**
 * A child `tideway cdc` killed with SIGKILL at random points of a continuous write load and
 * restarted: every committed change is found in Kafka afterwards, in per-key order (checked by
 * reading the topic). Then the slot is dropped behind its back: the service refuses to carry on
 * from a new slot (which would skip changes) and says how to re-snapshot.
 */
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { uniqueSuffix } from '../../../test-support/stack';
import { cleanup, json, names, perKeyOrderProblems, pg, readCommittedVersions, readTopic, startCdc, VersionedWriter } from './cdc-test-support';

jest.setTimeout(420_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tideway cdc under SIGKILL', () => {
  const id = uniqueSuffix();
  const n = names(id);
  const table = `cdc_kill_${id}`;
  let cdc: TidewayProcess | undefined;

  afterAll(async () => {
    await cdc?.kill();
    await cleanup(n, [table], [`${table}.changes`]);
  });

  it('loses no committed change and keeps per-key order across kill -9 and restart', async () => {
    const db = await pg();
    const writerDb = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, version int NOT NULL)`);
    await db.query(`INSERT INTO ${table} SELECT g, 1 FROM generate_series(1, 200) g`);

    // The writer: small multi-row transactions; a version is "committed" once COMMIT returned.
    const writer = new VersionedWriter(writerDb, table, 200, { maxKeysPerTransaction: 4 });
    const committed = writer.committed;

    cdc = await startCdc(n, [`public.${table}`]);
    const kills: number[] = [];
    for (let round = 0; round < 4; round++) {
      // Random points: during start-up/snapshot, mid-stream, right after a restart.
      const waitMs = Math.floor(Math.random() * 2500) + (round === 0 ? 300 : 800);
      await sleep(waitMs);
      kills.push(writer.transactions);
      await cdc.kill();
      await sleep(Math.floor(Math.random() * 500));
      cdc = await startCdc(n, [`public.${table}`]);
    }
    await cdc.waitReady();
    await sleep(1000);
    await writer.stop();
    await writerDb.end();
    expect(writer.transactions).toBeGreaterThan(kills[0]);

    // Read the topic until every key's last event carries its last committed version.
    const { messages, missing } = await readCommittedVersions(`${table}.changes`, committed, 180_000);
    expect(missing.slice(0, 10)).toEqual([]);

    // Per key: replays after a crash may repeat a suffix, but first occurrences must run
    // 1, 2, 3, ... (or from the snapshot's version) with no gap and no step back.
    const order = perKeyOrderProblems(messages, committed, false);
    expect(order.problems.slice(0, 10)).toEqual([]);
    expect(order.keys).toBe(committed.size);

    expect(await cdc.stop()).toBe(0);
    cdc = undefined;

    // Someone drops the slot while the service is down: it must not quietly start a new one.
    await db.query('SELECT pg_drop_replication_slot($1)', [n.slot]);
    await db.end();
    cdc = await startCdc(n, [`public.${table}`]);
    const code = await cdc.exited();
    expect(code).toBe(1);
    expect(cdc.logs()).toMatch(/replication slot \\?"cdc_test_[0-9a-z_]+\\?" no longer exists/);
    expect(cdc.logs()).toMatch(/pg_drop_replication_slot\('cdc_test_[0-9a-z_]+'\); DELETE FROM public\.tideway_cdc_state/);
    cdc = undefined;
    const check = await pg();
    expect((await check.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [n.slot])).rows).toHaveLength(0);
    await check.end();
  });
});

describe('tideway cdc killed during its snapshot', () => {
  const id = uniqueSuffix();
  const n = names(id);
  const table = `cdc_snapkill_${id}`;
  let cdc: TidewayProcess | undefined;

  afterAll(async () => {
    await cdc?.kill();
    await cleanup(n, [table], [`${table}.changes`]);
  });

  it('snapshots again after the restart instead of skipping the rows it had not read', async () => {
    const rows = 20_000;
    const db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'v' FROM generate_series(1, ${rows}) g`);
    // A slow snapshot (tiny fetches and Kafka buffer) so the kill lands inside it.
    const slow = { CDC_SNAPSHOT_FETCH_ROWS: '10', CDC_MAX_BUFFERED_RECORDS: '20', CDC_BATCH_MAX_RECORDS: '10' };
    cdc = await startCdc(n, [`public.${table}`], slow);
    for (;;) {
      const m = await cdc.metrics().catch(() => '');
      const done = /tideway_cdc_snapshot_rows_total\{[^}]*\} (\d+)/.exec(m);
      if (done && Number(done[1]) > 0) break;
      await sleep(100);
    }
    await cdc.kill();
    const state = await db.query<{ snapshot: string }>('SELECT snapshot FROM public.tideway_cdc_state WHERE slot_name = $1', [n.slot]);
    expect(state.rows).toEqual([{ snapshot: 'running' }]);
    // Changes after the first slot's start point must not be lost by the second snapshot either.
    await db.query(`UPDATE ${table} SET v = 'changed' WHERE id <= 10`);

    cdc = await startCdc(n, [`public.${table}`]);
    await cdc.waitReady(180_000);
    await db.query(`UPDATE ${table} SET v = 'after' WHERE id = 1`);
    const final = new Map((await db.query<{ id: number; v: string }>(`SELECT id, v FROM ${table}`)).rows.map((r) => [r.id, r.v]));
    expect((await db.query('SELECT snapshot FROM public.tideway_cdc_state WHERE slot_name = $1', [n.slot])).rows).toEqual([{ snapshot: 'done' }]);
    await db.end();

    const last = new Map<number, string>();
    await readTopic(
      `${table}.changes`,
      (all) => {
        last.clear();
        for (const m of all) {
          const ev = json(m);
          if (ev?.after) last.set((ev.after as { id: number }).id, (ev.after as { v: string }).v);
        }
        return last.size === final.size && [...final].every(([k, v]) => last.get(k) === v);
      },
      180_000,
    );
    expect([...final].filter(([k, v]) => last.get(k) !== v).slice(0, 5)).toEqual([]);
    expect(cdc.logs(400)).toMatch(/the previous snapshot did not finish/);
    expect(await cdc.stop()).toBe(0);
    cdc = undefined;
  });
});
