/**
 * Helpers for the dwh-loader integration tests: Debezium-style envelopes as `tideway cdc` writes
 * them, a topic scope on the real broker, the loader started in this process, a warehouse
 * connection, and a describe block's shared set-up. Names, waiting and metrics come from test-support/.
 */
import { Client } from 'pg';
import {
  COLUMNS_HEADER,
  createKafkaClient,
  Readiness,
  DependencyHealth,
  createLogger,
  createRegistry,
  loadSettings,
  type ColumnInfo,
  type KafkaClient,
  type OutgoingMessage,
  type Registry,
  type RunningService,
} from '@tideway/runtime';
import { testKafka } from '../../../test-support/kafka';
import { metricValue as metricFromText } from '../../../test-support/metrics';
import { uniqueSuffix } from '../../../test-support/stack';
import { definition } from '../src/main';

export { eventually } from '../../../test-support/wait';
export { uniqueSuffix as suffix };

export const kafka: KafkaClient = testKafka();

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
    source: {
      version: 'test',
      connector: 'postgresql',
      name: 'tideway',
      db: 'app',
      schema: e.schema ?? 'public',
      table: e.table,
      lsn: e.lsn,
      txId: e.lsn,
      ts_ms: e.tsMs ?? Date.now(),
      snapshot: 'false',
    },
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
    const t = `${prefix}-${uniqueSuffix()}.changes`;
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

/** Sum of the samples of a metric in the registry whose labels include `labels`. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricFromText(await registry.metrics(), name, labels);
}

export async function dropSchema(schema: string): Promise<void> {
  const c = await warehouseClient();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/**
 * What a describe block of loader tests shares: a TopicScope and a warehouse connection opened
 * before its tests; the loaders a test started stopped after it; its schemas dropped and
 * everything closed at the end.
 */
export function loaderSuite(): { topics: TopicScope; readonly db: Client; schemas: string[]; loaders: InProcessLoader[] } {
  const topics = new TopicScope();
  let db: Client | undefined;
  const schemas: string[] = [];
  const loaders: InProcessLoader[] = [];
  beforeAll(async () => {
    await topics.open();
    db = await warehouseClient();
  });
  afterEach(async () => {
    while (loaders.length)
      await loaders
        .pop()!
        .stop()
        .catch(() => undefined);
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
    await db?.end();
    await topics.close();
  });
  return {
    topics,
    get db() {
      return db!;
    },
    schemas,
    loaders,
  };
}
