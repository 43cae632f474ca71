/**
 * PostgreSQL restarts (stop immediate, a pause, start on the same data dir) under a steady write
 * load while `tideway cdc` captures from it and `tideway dwh-loader` loads into it (the shared
 * Kafka in between). Neither service exits; both report not-ready while the server is down and
 * recover by themselves (cdc reconnects its replication connection and resumes from its slot,
 * dwh-loader reconnects to the warehouse). Every committed change is in the change topic (at least
 * once) and the warehouse table equals the source table row by row.
 *
 * The server is a PRIVATE one (test-support/private-postgres.ts): the shared PostgreSQL on 55432
 * is never restarted.
 */
import type { Client } from 'pg';
import { afterImage, readTopicUntil } from '../../test-support/kafka-read';
import { testKafka } from '../../test-support/kafka';
import { PrivatePostgres } from '../../test-support/private-postgres';
import { ReadinessSampler, readyAgain } from '../../test-support/readiness-sampler';
import { changeCoverage, RowLoad } from '../../test-support/row-load';
import { uniqueName } from '../../test-support/stack';
import { waitFor } from '../../test-support/wait';
import { TidewayProcess } from '../../test-support/tideway-process';

jest.setTimeout(420_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEEDED = 200;

/** Every column as text, ordered by id: equal output means equal tables. */
async function rows(c: Client, table: string): Promise<string[]> {
  const r = await c.query<{ row: string }>(`SELECT concat_ws(',', id, version, amount) AS row FROM ${table} ORDER BY id`);
  return r.rows.map((x) => x.row);
}

describe('cdc and dwh-loader across a PostgreSQL restart', () => {
  const table = uniqueName('res_pg', '_');
  const topic = `${table}.changes`;
  const schema = `wh_${table}`;
  let pg: PrivatePostgres | undefined;
  const procs: TidewayProcess[] = [];
  const clients: Client[] = [];
  let sampler: ReadinessSampler | undefined;
  let load: RowLoad | undefined;

  afterAll(async () => {
    await sampler?.stop();
    await load?.abandon().catch(() => undefined);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    for (const c of clients) await c.end().catch(() => undefined);
    await pg?.destroy();
    const admin = testKafka().admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics([topic, `${topic}.dlq`].filter((t) => existing.has(t))).catch(() => undefined);
    await admin.disconnect();
  });

  it('both services recover by themselves and nothing committed is lost', async () => {
    pg = await PrivatePostgres.start();
    const app = await pg.client('app');
    clients.push(app);
    await RowLoad.createTable(app, `public.${table}`, SEEDED);

    const cdc = await TidewayProcess.start('cdc', {
      CDC_DATABASE_URL: pg.url('app'),
      CDC_TABLES: `public.${table}`,
      CDC_SLOT: table,
      CDC_PUBLICATION: table,
      CDC_HEARTBEAT_MS: '1000',
      CDC_TOPIC_PARTITIONS: '3',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    });
    procs.push(cdc);
    await cdc.waitReady(120_000);
    const admin = testKafka().admin();
    await admin.connect();
    await waitFor(async () => (await admin.listTopics()).includes(topic), { timeoutMs: 120_000, what: `topic ${topic} created by cdc` });
    await admin.disconnect();
    const loader = await TidewayProcess.start('dwh-loader', {
      DWH_TOPICS: topic,
      DWH_SCHEMA: schema,
      DWH_GROUP_ID: `${table}-dwh`,
      DWH_DATABASE_URL: pg.url('warehouse'),
      DWH_BATCH_MAX_ROWS: '200',
      DWH_RETRY_MAX_MS: '2000',
      DWH_SESSION_TIMEOUT_MS: '10000',
    });
    procs.push(loader);
    await loader.waitReady(120_000);
    const services = { cdc, 'dwh-loader': loader };
    sampler = new ReadinessSampler(services);

    load = new RowLoad(() => pg!.client('app'), `public.${table}`, SEEDED, { seed: 20_251_203, pauseMs: 20 });
    await waitFor(() => load!.transactions >= 100, { timeoutMs: 120_000, what: 'load under way' });

    // The outage: no clean shutdown; the load goes on retrying.
    await pg.stop('immediate');
    const stoppedAt = Date.now();
    const before = load.transactions;
    await sleep(10_000);
    // Both noticed while the server is still down (generous deadline, not a timing judgement).
    const names = Object.keys(services);
    const { notReady, seen: seenDuringOutage } = await sampler.outageNoticed(stoppedAt);
    expect(load.transactions).toBe(before);
    expect(load.failures).toBeGreaterThan(0);

    await pg.restart();
    const restartedAt = Date.now();
    const readyAgainMs = await readyAgain(services, restartedAt);
    await waitFor(() => load!.transactions >= before + 100, { timeoutMs: 120_000, what: 'load resumed' });
    await load.stop();
    for (const p of procs) expect({ exit: p.child.exitCode, logs: p.child.exitCode === null ? '' : p.logs(30) }).toEqual({ exit: null, logs: '' });
    console.log(
      `postgres-restart: ${load.transactions} transactions, ${load.failures} failed attempts retried; ready again (ms after the restart, waited for in turn) ${JSON.stringify(readyAgainMs)}`,
    );

    // Every committed version of every key is in the change topic (duplicates allowed, counted).
    const committed = load.committed;
    const events = (all: Parameters<typeof afterImage>[0][]) =>
      all.map((m) => afterImage<{ id: number; version: number }>(m)).filter((a): a is { id: number; version: number } => a !== null);
    const read = await readTopicUntil(topic, (all) => changeCoverage(events(all), committed).missing.length === 0, { timeoutMs: 180_000 });
    const coverage = changeCoverage(events(read), committed);
    console.log(`postgres-restart: ${read.length} change records, ${coverage.distinct} distinct changes, ${coverage.duplicates} duplicates`);
    expect(coverage.missing.slice(0, 20)).toEqual([]);

    // The warehouse equals the source, row by row.
    // (the first connection died with the server)
    const appAgain = await pg.client('app');
    clients.push(appAgain);
    const source = await rows(appAgain, `public.${table}`);
    const wh = await pg.client('warehouse');
    clients.push(wh);
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await rows(wh, `"${schema}"."${table}"`);
        return last.length === source.length && last.every((r, i) => r === source[i]);
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: 'warehouse equal to the source' },
    ).catch(() => undefined);
    const diff = source.filter((r, i) => last[i] !== r);
    expect({ rows: last.length, firstDifferences: diff.slice(0, 5) }).toEqual({ rows: source.length, firstDifferences: [] });
    expect(source.length).toBe(committed.size);

    // Checked last, so that a failure here still shows whether data was lost.
    expect({ notReady, seenDuringOutage }).toEqual({
      notReady: Object.fromEntries(names.map((n) => [n, true])),
      seenDuringOutage: Object.fromEntries(names.map((n) => [n, []])),
    });
    await sampler.stop();
    for (const p of procs) expect(await p.stop()).toBe(0);
  });
});
