/**
 * The Kafka broker dies (SIGKILL) under a steady write load while all four services run against
 * it, and comes back on the same data dir after a pause:
 *   PostgreSQL (shared) → cdc → private Kafka → dwh-loader (shared warehouse),
 *                                             → alerting (one rule, transactional alerts topic),
 *                                             → bridge (a fresh kinesis-mock stream).
 * No service exits; each reports not-ready while the broker is down and is ready again by itself.
 * Nothing is lost: every committed change is in the change topic and in the Kinesis stream (at
 * least once: duplicates counted), the warehouse equals the source row by row, and every expected
 * alert is there exactly once.
 *
 * The broker is a PRIVATE one (test-support/private-kafka.ts): the shared Kafka is never touched.
 */
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { IncomingMessage } from '@tideway/runtime';
import { dropCdcArtifacts } from '../../test-support/cdc-artifacts';
import { readStream } from '../../test-support/kinesis-read';
import { afterImage, readTopicUntil } from '../../test-support/kafka-read';
import { testKafka } from '../../test-support/kafka';
import { PrivateKafka } from '../../test-support/private-kafka';
import { ReadinessSampler, readyAgain } from '../../test-support/readiness-sampler';
import { changeCoverage, RowLoad } from '../../test-support/row-load';
import { kinesisClient, stackEnv, uniqueName } from '../../test-support/stack';
import { waitFor } from '../../test-support/wait';
import { TidewayProcess } from '../../test-support/tideway-process';

jest.setTimeout(480_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEEDED = 200;
/** Inserts with an amount over this raise one alert each. */
const ALERT_OVER = 700;

type Change = { id: number; version: number };

async function pgClient(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function rows(c: Client, table: string): Promise<string[]> {
  const r = await c.query<{ row: string }>(`SELECT concat_ws(',', id, version, amount) AS row FROM ${table} ORDER BY id`);
  return r.rows.map((x) => x.row);
}

const changes = (all: IncomingMessage[]): Change[] => all.map((m) => afterImage<Change>(m)).filter((a): a is Change => a !== null);

describe('all four services across a Kafka broker restart', () => {
  const env = stackEnv();
  const table = uniqueName('res_kafka', '_');
  const topic = `${table}.changes`;
  const alertsTopic = `${table}.alerts`;
  const schema = `wh_${table}`;
  const stream = uniqueName('res-kafka');
  const dir = require('node:fs').mkdtempSync(join(require('node:os').tmpdir(), 'tideway-resilience-')) as string;
  const kinesis = kinesisClient();
  let broker: PrivateKafka | undefined;
  const procs: TidewayProcess[] = [];
  const clients: Client[] = [];
  let sampler: ReadinessSampler | undefined;
  let load: RowLoad | undefined;

  afterAll(async () => {
    await sampler?.stop();
    await load?.abandon().catch(() => undefined);
    for (const p of procs) {
      writeFileSync(join(dir, `${procs.indexOf(p)}.log`), p.output.join(''));
      if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    }
    for (const c of clients) await c.end().catch(() => undefined);
    await broker?.destroy();
    await dropCdcArtifacts({ slot: table, publication: table }, [`public.${table}`]).catch(() => undefined);
    const wh = await pgClient(env.DWH_DATABASE_URL);
    await wh.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await wh.end();
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true })).catch(() => undefined);
    kinesis.destroy();
  });

  it('every service recovers by itself and nothing is lost', async () => {
    broker = await PrivateKafka.start();
    const app = await pgClient(env.CDC_DATABASE_URL);
    clients.push(app);
    await RowLoad.createTable(app, `public.${table}`, SEEDED);
    const admin = testKafka(broker.brokers).admin();
    await admin.connect();
    await admin.ensureTopics([
      { topic, partitions: 3 },
      { topic: alertsTopic, partitions: 1 },
    ]);
    await admin.disconnect();

    const rules = join(dir, 'rules.yaml');
    writeFileSync(
      rules,
      [
        'rules:',
        '  - id: big-insert',
        `    topic: ${topic}`,
        '    severity: high',
        '    filter: op == "c"',
        '    keyBy: after.id',
        `    when: after.amount > ${ALERT_OVER}`,
        '',
      ].join('\n'),
    );
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      [
        'routes:',
        `  - name: ${table}`,
        `    topics: [${topic}]`,
        '    kinesis:',
        `      stream: ${stream}`,
        '      create: { shards: 1 }',
        '      partitionKey: key',
        '',
      ].join('\n'),
    );

    const common = { KAFKA_BROKERS: broker.brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const start = async (service: string, own: Record<string, string>) => {
      const p = await TidewayProcess.start(service, { ...common, ...own });
      procs.push(p);
      return p;
    };
    const cdc = await start('cdc', {
      CDC_DATABASE_URL: env.CDC_DATABASE_URL,
      CDC_TABLES: `public.${table}`,
      CDC_SLOT: table,
      CDC_PUBLICATION: table,
      CDC_HEARTBEAT_MS: '1000',
    });
    const loader = await start('dwh-loader', {
      DWH_TOPICS: topic,
      DWH_SCHEMA: schema,
      DWH_GROUP_ID: `${table}-dwh`,
      DWH_DATABASE_URL: env.DWH_DATABASE_URL,
      DWH_RETRY_MAX_MS: '2000',
      DWH_SESSION_TIMEOUT_MS: '10000',
    });
    const alerting = await start('alerting', {
      ALERTING_RULES: rules,
      ALERTING_GROUP_ID: `${table}-alerting`,
      ALERTS_TOPIC: alertsTopic,
      ALERTING_INTERNAL_PARTITIONS: '1',
      ALERTING_EVALUATION_THREADS: '1',
      ALERTING_SESSION_TIMEOUT_MS: '10000',
    });
    const bridge = await start('bridge', {
      BRIDGE_ROUTES: routes,
      BRIDGE_GROUP_PREFIX: `${table}-bridge-`,
      BRIDGE_COMMIT_INTERVAL_MS: '500',
      BRIDGE_RETRY_MAX_MS: '2000',
    });
    const services = { cdc, 'dwh-loader': loader, alerting, bridge };
    for (const p of procs) await p.waitReady(180_000);
    sampler = new ReadinessSampler(services);

    load = new RowLoad(() => pgClient(env.CDC_DATABASE_URL), `public.${table}`, SEEDED, { seed: 20_251_204, pauseMs: 40 });
    await waitFor(() => load!.transactions >= 100, { timeoutMs: 120_000, what: 'load under way' });

    // The outage: the broker dies mid-load; writes go on.
    await broker.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(12_000);
    // Each service noticed while the broker is still down (generous deadline, not a timing judgement).
    const names = Object.keys(services);
    const { notReady, seen: seenDuringOutage } = await sampler.outageNoticed(killedAt);
    const transactionsDuringOutage = load.transactions;

    await broker.restart();
    const restartedAt = Date.now();
    // Ready again by itself (waitReady fails, with the service's log, when it is not).
    const readyAgainMs = await readyAgain(services, restartedAt);
    await waitFor(() => load!.transactions >= transactionsDuringOutage + 100, { timeoutMs: 120_000, what: 'load after the restart' });
    await load.stop();
    console.log(
      `broker-restart: ${load.transactions} transactions (${transactionsDuringOutage} before the broker was back); ready again (ms after the restart, waited for in turn) ${JSON.stringify(readyAgainMs)}`,
    );
    // A process ended by a signal (a native crash) has a signal and no exit code.
    const ended = (p: TidewayProcess) => p.child.exitCode ?? p.child.signalCode;
    const logs = (p: TidewayProcess) => (ended(p) === null ? '' : p.logs(40));
    expect(Object.fromEntries(Object.entries(services).map(([n, p]) => [n, { exit: ended(p), logs: logs(p) }]))).toEqual(
      Object.fromEntries(names.map((n) => [n, { exit: null, logs: '' }])),
    );

    const committed = load.committed;
    // cdc: every committed version of every key in the change topic.
    const read = await readTopicUntil(topic, (all) => changeCoverage(changes(all), committed).missing.length === 0, {
      brokers: broker.brokers,
      timeoutMs: 180_000,
    });
    const topicCoverage = changeCoverage(changes(read), committed);
    expect(topicCoverage.missing.slice(0, 20)).toEqual([]);

    // dwh-loader: the warehouse equals the source, row by row.
    const source = await rows(app, `public.${table}`);
    const wh = await pgClient(env.DWH_DATABASE_URL);
    clients.push(wh);
    let got: string[] = [];
    await waitFor(
      async () => {
        got = await rows(wh, `"${schema}"."${table}"`);
        return got.length === source.length && got.every((r, i) => r === source[i]);
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: 'warehouse equal to the source' },
    ).catch(() => undefined);
    expect({ rows: got.length, firstDifferences: source.filter((r, i) => got[i] !== r).slice(0, 5) }).toEqual({ rows: source.length, firstDifferences: [] });

    // alerting: every expected alert exactly once (read_committed).
    // One alert per matching record of the change topic: an insert cdc wrote twice (at least once)
    // is two input records, hence two alerts; every committed insert over the threshold is among them.
    const inserts = read
      .map((m) => (m.value ? (JSON.parse(m.value.toString('utf8')) as { op: string; after: { id: number; amount: number } | null }) : null))
      .filter((e) => e?.op === 'c' && e.after !== null && e.after.amount > ALERT_OVER);
    const expectedAlerts = inserts.map((e) => e!.after!.id).sort((a, b) => a - b);
    expect([...new Set(expectedAlerts)]).toEqual(load.insertedOver(ALERT_OVER, SEEDED).sort((a, b) => a - b));
    const alertIds = (all: IncomingMessage[]) =>
      all.map((m) => (JSON.parse(m.value!.toString('utf8')) as { values: { after: { id: number } } }).values.after.id);
    // Read on for a while once all are there: a doubled alert would show up.
    const alerts = alertIds(
      await readTopicUntil(alertsTopic, (all) => all.length >= expectedAlerts.length, {
        brokers: broker.brokers,
        readCommitted: true,
        timeoutMs: 180_000,
        settleMs: 5000,
      }),
    ).sort((a, b) => a - b);
    expect(expectedAlerts.length).toBeGreaterThan(0);
    expect(alerts).toEqual(expectedAlerts);

    // bridge: every change in the Kinesis stream (at least once).
    let streamCoverage = changeCoverage([], committed);
    await waitFor(
      async () => {
        const recs = await readStream(kinesis, stream);
        streamCoverage = changeCoverage(
          recs.map((r) => (JSON.parse(r.data.toString('utf8')) as { after?: Change | null }).after ?? null).filter((a): a is Change => a !== null),
          committed,
        );
        return streamCoverage.missing.length === 0;
      },
      { timeoutMs: 180_000, intervalMs: 2000, what: 'every change in the Kinesis stream' },
    ).catch(() => undefined);
    expect(streamCoverage.missing.slice(0, 20)).toEqual([]);
    console.log(
      `broker-restart: change topic ${read.length} records, ${topicCoverage.duplicates} duplicates; Kinesis ${streamCoverage.distinct + streamCoverage.duplicates} records, ${streamCoverage.duplicates} duplicates; ${alerts.length} alerts; ${source.length} rows`,
    );

    // Checked last, so that a failure here still shows whether data was lost; and no service is
    // left not ready once everything has settled.
    for (const p of procs) await p.waitReady(60_000);
    expect({ notReady, seenDuringOutage }).toEqual({
      notReady: Object.fromEntries(names.map((n) => [n, true])),
      seenDuringOutage: Object.fromEntries(names.map((n) => [n, []])),
    });
    await sampler.stop();
    for (const p of procs) expect({ exit: await p.stop() }).toEqual({ exit: 0 });
  });
});
