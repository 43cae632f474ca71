/**
 * Helpers for the dwh-loader integration tests: unique names, Debezium-style envelopes as
 * `tideway cdc` writes them, a producer and admin on the real broker, the loader started in
 * this process (or as a child process elsewhere), and a warehouse connection.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  COLUMNS_HEADER,
  KafkajsClient,
  createKafkaClient,
  Readiness,
  DependencyHealth,
  createLogger,
  createRegistry,
  kafkaConfigFrom,
  loadSettings,
  type ColumnInfo,
  type KafkaClient,
  type OutgoingMessage,
  type Registry,
  type RunningService,
} from '@tideway/runtime';
import { definition } from '../src/main';

export const suffix = (): string => randomUUID().replace(/-/g, '').slice(0, 10);

const logger = createLogger('dwh-loader-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export const kafka: KafkaClient = new KafkajsClient(
  kafkaConfigFrom(
    { kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), kafkaClientId: 'dwh-loader-test', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10_000 },
    logger,
  ),
);

export const WAREHOUSE_URL = process.env.DWH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/warehouse';

export async function warehouseClient(): Promise<Client> {
  const c = new Client({ connectionString: WAREHOUSE_URL });
  await c.connect();
  return c;
}

export interface EnvelopeInput {
  table: string;
  op: 'c' | 'u' | 'd' | 'r' | 't';
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  lsn: number;
  schema?: string;
  tsMs?: number;
}

/** A change event exactly as change-event.ts describes it. */
export function envelope(e: EnvelopeInput): Record<string, unknown> {
  return {
    before: e.before ?? null,
    after: e.after ?? null,
    op: e.op,
    ts_ms: Date.now(),
    source: { version: 'test', connector: 'postgresql', name: 'tideway', db: 'app', schema: e.schema ?? 'public', table: e.table, lsn: e.lsn, txId: e.lsn, ts_ms: e.tsMs ?? Date.now(), snapshot: 'false' },
  };
}

export function changeMessage(topic: string, key: Record<string, unknown>, e: EnvelopeInput, columns?: ColumnInfo[], partition?: number): OutgoingMessage {
  return {
    topic,
    partition,
    key: JSON.stringify(key),
    value: JSON.stringify(envelope(e)),
    headers: columns ? { [COLUMNS_HEADER]: JSON.stringify(columns) } : undefined,
  };
}

export class TopicScope {
  readonly admin = kafka.admin();
  readonly producer = kafka.producer({ idempotent: true });
  private readonly created: string[] = [];

  async open(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  async topic(prefix: string, partitions = 1): Promise<string> {
    const t = `${prefix}-${suffix()}.changes`;
    await this.admin.ensureTopics([{ topic: t, partitions }]);
    this.created.push(t, `${t}.dlq`);
    return t;
  }

  async close(): Promise<void> {
    const existing = new Set(await this.admin.listTopics().catch(() => [] as string[]));
    await this.admin.deleteTopics(this.created.filter((t) => existing.has(t))).catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}

export interface InProcessLoader {
  registry: Registry;
  readiness: Readiness;
  stop(): Promise<void>;
  failures: unknown[];
}

/** Starts the loader's `definition` in this process with the given settings (env names). */
export async function startLoader(env: Record<string, string>): Promise<InProcessLoader> {
  const settings = loadSettings(definition.settings, { env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env } });
  const registry = createRegistry('dwh-loader');
  const readiness = new Readiness();
  const abort = new AbortController();
  const failures: unknown[] = [];
  const svcLogger = createLogger('dwh-loader', settings.logLevel);
  const running: RunningService = await definition.start({
    name: 'dwh-loader',
    settings,
    logger: svcLogger,
    registry,
    readiness,
    health: new DependencyHealth(registry, readiness, svcLogger),
    kafka: createKafkaClient(settings, svcLogger),
    signal: abort.signal,
    fail: (err) => failures.push(err),
  });
  return {
    registry,
    readiness,
    failures,
    async stop() {
      abort.abort();
      await running.stop();
    },
  };
}

/**
 * Polls `check` until it returns true; fails with `describe()` after `timeoutMs`. A check that
 * throws counts as "not yet" (a poll can meet a transient broker error, e.g. kafkajs's admin
 * refreshing metadata while another test deletes topics); the last error is reported at the deadline.
 */
export async function eventually(check: () => Promise<boolean>, describe: () => Promise<string> | string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = await Promise.resolve(describe()).catch((err: unknown) => `(describe failed: ${String(err)})`);
      throw new Error(`condition not reached in ${timeoutMs} ms: ${detail}${lastError === undefined ? '' : `; last error: ${String(lastError)}`}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sum of a counter's samples in the registry matching `labels`. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values.filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)).reduce((a, v) => a + v.value, 0);
}

export async function dropSchema(schema: string): Promise<void> {
  const c = await warehouseClient();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}
