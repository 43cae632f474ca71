/**
 * The monitoring reads what the services really export: each service (`tideway <service>`,
 * built dist/) runs on the local stack, its real /metrics is scraped, and every metric that a
 * Grafana panel or an alert rule queries must be declared by the service it filters on (or by
 * one of them). Then a real Prometheus (Debian's binary, on 127.0.0.1, with a generated config
 * and the shipped alert rules) scrapes the running services and all its targets must be up.
 *
 * Needs `npm run build` and `npm run stack:up`. Every name created here carries a random
 * suffix; the PostgreSQL objects are dropped afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { KafkajsClient, commonSettings, createLogger, kafkaConfigFrom, loadSettings } from '@tideway/runtime';
import { stringify } from 'yaml';
import { freePort } from '../../test-support/free-port';
import { uniqueSuffix } from '../../test-support/stack';
import { TidewayProcess } from '../../test-support/tideway-process';
import { exportedFamilies, loadMonitoringQueries, metricFamilyCandidates, metricNames } from './monitoring-queries';
import { PROMETHEUS_DIR, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS, ensureTool, runOk } from './tools';

jest.setTimeout(TOOL_INSTALL_TIMEOUT_MS);

const id = uniqueSuffix();
const schema = `deploy_metrics_${id}`;
const slot = `deploy_metrics_${id}`;
const appUrl = process.env.CDC_DATABASE_URL!;
const warehouseUrl = process.env.DWH_DATABASE_URL!;
const changeTopic = `${schema}.events.changes`;
const work = mkdtempSync(join(tmpdir(), 'tideway-metrics-'));

const services = new Map<string, TidewayProcess>();
/** The services that read topics in a consumer group (cdc writes; kinesis-api reads at offsets, without a group). */
const CONSUMERS = ['dwh-loader', 'alerting', 'bridge'];
const families = new Map<string, Map<string, string>>();
let prometheus: ChildProcess | undefined;

async function sql(url: string, text: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  // Built by `npm run build` (npm test builds before the integration tests); not rebuilt here, so
  // parallel test files never write dist/ at the same time.
  for (const pkg of ['services/cdc', 'services/dwh-loader', 'services/alerting', 'bridge', 'services/kinesis-api']) {
    if (!existsSync(join(REPO_ROOT, pkg, 'dist', 'main.js'))) throw new Error(`${pkg}/dist is missing: run npm run build first`);
  }
  await sql(
    appUrl,
    `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.events (id int PRIMARY KEY, amount numeric(10,2), note text); INSERT INTO ${schema}.events VALUES (1, 10.5, 'first')`,
  );

  const rulesFile = join(work, 'rules.yaml');
  writeFileSync(
    rulesFile,
    stringify({
      rules: [{ id: 'big-amount', topic: changeTopic, severity: 'high', title: 'Big amount', keyBy: 'after.id', when: 'double(after.amount) > 1000.0' }],
    }),
  );
  const routesFile = join(work, 'routes.yaml');
  writeFileSync(
    routesFile,
    stringify({ routes: [{ name: `metrics-${id}`, topics: [changeTopic], kinesis: { stream: `deploy-metrics-${id}`, create: { shards: 1 } } }] }),
  );

  const envOf: Record<string, NodeJS.ProcessEnv> = {
    cdc: {
      CDC_TABLES: `${schema}.events`,
      CDC_SLOT: slot,
      CDC_PUBLICATION: slot,
      CDC_TOPIC_TEMPLATE: '{schema}.{table}.changes',
      CDC_TOPIC_PARTITIONS: '1',
      CDC_STATE_TABLE: `${schema}.cdc_state`,
    },
    'dwh-loader': { DWH_TOPICS: changeTopic, DWH_SCHEMA: schema, DWH_GROUP_ID: `deploy-metrics-${id}` },
    alerting: { ALERTING_RULES: rulesFile, ALERTING_GROUP_ID: `deploy-metrics-${id}`, ALERTS_TOPIC: `${schema}.alerts` },
    bridge: { BRIDGE_ROUTES: routesFile, BRIDGE_GROUP_PREFIX: `deploy-metrics-${id}-` },
    // Port 0: any free port; only topics with the prefix are its streams.
    'kinesis-api': { KINESIS_API_AUTH: 'none', KINESIS_API_PORT: '0', KINESIS_API_STREAM_PREFIX: `deploy-metrics-${id}.` },
  };
  // cdc first: the others read the topic it creates.
  for (const name of ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api']) {
    const p = await TidewayProcess.start(name, envOf[name]);
    services.set(name, p);
    await p.waitReady(120_000);
  }
  for (const [name, p] of services) families.set(name, exportedFamilies(await p.metrics()));
});

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await Promise.all([...services.values()].map((p) => p.stop()));
  await sql(
    appUrl,
    `DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP PUBLICATION IF EXISTS ${slot}; SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'`,
  ).catch(() => undefined);
  await sql(warehouseUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await deleteTopicsContaining(id).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** The change, alerts, internal and dead-letter topics this test made (all carry the id). */
async function deleteTopicsContaining(part: string): Promise<void> {
  const settings = loadSettings(commonSettings('deploy-test'), { env: process.env });
  const admin = new KafkajsClient(kafkaConfigFrom(settings, createLogger('deploy-test', 'silent'))).admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.includes(part));
    if (mine.length) await admin.deleteTopics(mine);
  } finally {
    await admin.disconnect();
  }
}

function declaredBy(service: string, metric: string): boolean {
  const f = families.get(service)!;
  return metricFamilyCandidates(metric).some((c) => f.has(c));
}

test('every service exports the shared consumer/DLQ metrics (where it consumes) and the tideway_ process metrics', () => {
  for (const [name, f] of families) {
    expect([name, f.has('tideway_process_cpu_seconds_total'), f.has('tideway_process_resident_memory_bytes')]).toEqual([name, true, true]);
    if (CONSUMERS.includes(name)) expect([name, f.has('tideway_consumer_lag_messages'), f.has('tideway_dlq_records_total')]).toEqual([name, true, true]);
  }
});

test('every metric a dashboard panel or an alert rule queries is exported by a running service', () => {
  const queries = loadMonitoringQueries(REPO_ROOT);
  expect(queries.length).toBeGreaterThan(60);
  const missing: string[] = [];
  for (const q of queries) {
    const only = /service="([a-z-]+)"/.exec(q.expr)?.[1];
    for (const metric of metricNames(q.expr)) {
      if (metric === 'up') continue; // made by Prometheus itself; checked in the scrape test below
      const candidates = only ? [only] : [...families.keys()];
      if (!candidates.some((s) => families.has(s) && declaredBy(s, metric))) missing.push(`${q.origin}: ${metric}${only ? ` (from ${only})` : ''}`);
    }
  }
  expect(missing).toEqual([]);
});

test('every metric kinesis-api declares of its own is shown on a dashboard or read by an alert rule', () => {
  const queried = new Set(loadMonitoringQueries(REPO_ROOT).flatMap((q) => metricNames(q.expr).flatMap(metricFamilyCandidates)));
  const own = [...families.get('kinesis-api')!.keys()].filter((f) => f.startsWith('tideway_kinesis_api_'));
  expect(own.length).toBeGreaterThanOrEqual(8);
  expect(own.filter((f) => !queried.has(f))).toEqual([]);
});

test('a real Prometheus scrapes the running services: every target up, the shipped rules loaded and healthy', async () => {
  const bin = ensureTool('prometheus');
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(PROMETHEUS_DIR, 'rules', '*.yml')],
    scrape_configs: [...services].map(([name, p]) => ({ job_name: `tideway-${name}`, static_configs: [{ targets: [`127.0.0.1:${p.metricsPort}`] }] })),
  };
  const configFile = join(work, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  runOk(join(bin, 'promtool'), ['check', 'config', configFile]);
  const logs: string[] = [];
  prometheus = spawn(
    join(bin, 'prometheus'),
    [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(work, 'tsdb')}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  prometheus.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  prometheus.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const api = async <T>(path: string): Promise<T> => ((await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as { data: T }).data;

  type Target = { labels: { job: string }; health: string; lastError: string };
  let targets: Target[] = [];
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      targets = (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
      if (targets.length === services.size && targets.every((t) => t.health === 'up')) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const summary = targets.map((t) => [t.labels.job, t.health, t.lastError]).sort();
  expect({ summary, logs: summary.length ? '' : logs.join('').slice(-2000) }).toEqual({
    summary: [...services.keys()].map((s) => [`tideway-${s}`, 'up', '']).sort(),
    logs: '',
  });

  // The same data the dashboards read: up{} for every job, and the services' own series.
  const up = await api<{ result: { metric: { job: string }; value: [number, string] }[] }>(
    `/api/v1/query?query=${encodeURIComponent('up{job=~"tideway-.+"}')}`,
  );
  expect(up.result.map((r) => [r.metric.job, r.value[1]]).sort()).toEqual([...services.keys()].map((s) => [`tideway-${s}`, '1']).sort());

  type Rule = { name: string; health: string; lastError?: string };
  const groups = (await api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules')).groups;
  const rules = groups.flatMap((g) => g.rules);
  expect(rules.length).toBeGreaterThanOrEqual(8);
  // A rule that has not been evaluated yet reports "unknown"; an invalid one reports "err".
  expect(rules.filter((r) => r.health === 'err')).toEqual([]);
});
