/**
 * `tideway demo` as a child process on the local stack, and `npm run demo` (the whole pipeline)
 * end to end. Needs `npm run build` (done here) and `npm run stack:up`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { KafkajsClient, commonSettings, createLogger, kafkaConfigFrom, loadSettings } from '@tideway/runtime';
import { uniqueName } from '../../../test-support/stack';
import { runTidewaySync } from '../../../test-support/tideway-process';
import { ChangeGenerator } from '../src/generator';

jest.setTimeout(10 * 60_000);

const REPO_ROOT = join(__dirname, '..', '..', '..');
const appUrl = process.env.CDC_DATABASE_URL!;
const warehouseUrl = process.env.DWH_DATABASE_URL!;
const createdSchemas: [string, string][] = [];

async function query<T>(url: string, text: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

beforeAll(() => {
  // Built by `npm run build` (npm test builds first); not rebuilt here, so parallel test files never write dist/ at once.
  for (const pkg of ['services/demo', 'services/cdc', 'services/dwh-loader', 'services/alerting', 'bridge', 'services/kinesis-api']) {
    if (!existsSync(join(REPO_ROOT, pkg, 'dist', 'main.js'))) throw new Error(`${pkg}/dist is missing: run npm run build first`);
  }
});

const createdTopicParts: string[] = [];

afterAll(async () => {
  for (const [url, schema] of createdSchemas) await query(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  // The pipeline's topics (change, alerts, internal, dead-letter) all carry its run id.
  if (createdTopicParts.length) {
    const admin = new KafkajsClient(
      kafkaConfigFrom(loadSettings(commonSettings('demo-test'), { env: process.env }), createLogger('demo-test', 'silent')),
    ).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => createdTopicParts.some((p) => t.includes(p)));
    if (mine.length) await admin.deleteTopics(mine).catch(() => undefined);
    await admin.disconnect();
  }
});

test('tideway demo writes exactly the changes of its seed, then stops by itself with exit 0', async () => {
  const schema = uniqueName('demo_gen', '_');
  createdSchemas.push([appUrl, schema]);
  const r = runTidewaySync(
    ['demo'],
    { DEMO_DATABASE_URL: appUrl, DEMO_SCHEMA: schema, DEMO_RATE: '500', DEMO_MAX_CHANGES: '400', DEMO_SEED: '11', DEMO_FRAUD_RATIO: '0.2', METRICS_PORT: '0' },
    120_000,
  );
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });

  // The same seed offline: the inserts per table are the rows in the database.
  const changes = new ChangeGenerator({ seed: 11, fraudRatio: 0.2 }).take(400, new Date());
  const inserts = (t: string) => changes.filter((c) => c.table === t && c.op === 'c').length;
  const rows = await query<{ t: string; n: string }>(
    appUrl,
    `SELECT 'policies' AS t, count(*) AS n FROM ${schema}.policies UNION ALL SELECT 'claims', count(*) FROM ${schema}.claims UNION ALL SELECT 'transactions', count(*) FROM ${schema}.transactions`,
  );
  expect(Object.fromEntries(rows.map((x) => [x.t, Number(x.n)]))).toEqual({
    policies: inserts('policies'),
    claims: inserts('claims'),
    transactions: inserts('transactions'),
  });
  const flagged = changes.filter((c) => c.table === 'transactions' && c.fraud).length;
  const [tripping] = await query<{ n: string }>(
    appUrl,
    `SELECT count(*) AS n FROM ${schema}.transactions WHERE amount > 50000 OR country <> account_country OR extract(hour FROM ts AT TIME ZONE 'UTC') >= 23 OR extract(hour FROM ts AT TIME ZONE 'UTC') < 5`,
  );
  expect(Number(tripping.n)).toBe(flagged);
  expect(flagged).toBeGreaterThan(0);
});

test('a bad setting exits 2 with one line naming it', () => {
  const r = runTidewaySync(['demo'], { DEMO_DATABASE_URL: appUrl, DEMO_RATE: 'fast' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('DEMO_RATE')]);
});

test('npm run demo: the whole pipeline lands every change in every destination and says so', async () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'services', 'demo', 'dist', 'pipeline', 'run-pipeline.js')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, DEMO_DURATION: '10s', DEMO_RATE: '15', DEMO_FRAUD_RATIO: '0.25', DEMO_SETTLE_TIMEOUT: '150s' },
    timeout: 8 * 60_000,
  });
  const runId = /^Run ([a-z0-9]+):/m.exec(r.stdout)?.[1];
  if (runId) {
    createdSchemas.push([appUrl, `demo_${runId}`], [warehouseUrl, `demo_${runId}`]);
    createdTopicParts.push(`demo_${runId}`, `tideway-demo-${runId}`);
  }
  expect({
    status: r.status,
    failed: r.stdout.split('\n').filter((l) => l.includes('FAIL')),
    stderr: r.status === 0 ? '' : r.stderr.slice(-3000) + r.stdout.slice(-3000),
  }).toEqual({
    status: 0,
    failed: [],
    stderr: '',
  });
  expect(r.stdout).toMatch(/^\[\s*\d+s\] written \d+ \| captured \d+/m); // live progress
  const summary = r.stdout.slice(r.stdout.indexOf('Summary'));
  const number = (label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(summary)?.[1]);
  expect(number('rows written to PostgreSQL \\(changes\\)')).toBeGreaterThan(100);
  expect(number('change events captured in Kafka')).toBe(number('rows written to PostgreSQL \\(changes\\)'));
  expect(number('alerts fired')).toBeGreaterThan(0);
  expect(number('records in Kinesis')).toBeGreaterThan(0);
  // Every transaction event read back through tideway kinesis-api, each exactly once.
  expect(number('records read through the Kinesis API')).toBeGreaterThan(0);
  expect(r.stdout).toMatch(/^ {2}ok {4}transactions readable through the Kinesis API \((\d+) of \1 events in \1 records\)$/m);
  expect(number('objects in S3')).toBeGreaterThan(0);
  // The run's replication slot is dropped when the demo ends (an idle slot would hold WAL).
  expect(await query(appUrl, `SELECT 1 FROM pg_replication_slots WHERE slot_name = 'demo_${runId}'`)).toEqual([]);
});
