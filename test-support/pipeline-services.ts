/**
 * The four services wired into one pipeline for a test, on names no other run shares:
 *
 *   PostgreSQL `app` table ─ cdc ─▶ change topic ─┬─ dwh-loader ─▶ `warehouse` table
 *                                                 ├─ alerting ───▶ alerts topic (rule `big-amount`)
 *                                                 └─ bridge ─────▶ kinesis-mock stream (created by the route)
 *
 *   const p = planPipeline('rs');                // names: schema, slot, topics, groups, stream
 *   await preparePipelineSource(p);              // the source table (nothing on Kafka yet)
 *   const procs = await startPipelineServices(p, brokers);   // all four spawned at once
 *   await insertPipelineRows(p, rows) ... sourceRows(p), warehouseRows(p), streamIds(p), collectRecords(...)
 *   await stopPipelineServices(procs); await dropPipeline(p);
 *
 * Configuration mirrors the demo's (services/demo/src/pipeline/pipeline-plan.ts).
 */
import { DeleteStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { kinesisClient, stackEnv, uniqueName } from './stack';
import { TidewayProcess } from './tideway-process';

export const PIPELINE_SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge'] as const;
export type PipelineService = (typeof PIPELINE_SERVICES)[number];

/** Rows with an amount above this raise the `big-amount` alert. */
export const ALERT_AMOUNT_OVER = 100;

export interface PipelinePlan {
  id: string;
  /** Schema of the source table in `app` and of the loaded table in `warehouse`. */
  schema: string;
  table: string;
  slot: string;
  changeTopic: string;
  alertsTopic: string;
  stream: string;
  groupPrefix: string;
  dir: string;
  rulesFile: string;
  routesFile: string;
}

export interface PipelineRow {
  id: number;
  amount: number;
}

export function planPipeline(prefix: string): PipelinePlan {
  const schema = uniqueName(prefix, '_');
  const id = schema.replace(/_/g, '');
  const dir = mkdtempSync(join(tmpdir(), 'tideway-pipeline-'));
  return {
    id,
    schema,
    table: 'orders',
    slot: schema,
    changeTopic: `${schema}.orders.changes`,
    alertsTopic: `${schema}.alerts`,
    stream: `${id}-orders`,
    groupPrefix: id,
    dir,
    rulesFile: join(dir, 'rules.yaml'),
    routesFile: join(dir, 'routes.yaml'),
  };
}

/** Each service's environment on top of the stack's, with `brokers` as KAFKA_BROKERS. */
export function pipelineServiceEnv(p: PipelinePlan, brokers: string): Record<PipelineService, NodeJS.ProcessEnv> {
  const common = { KAFKA_BROKERS: brokers, SHUTDOWN_TIMEOUT_MS: '20000' };
  return {
    cdc: {
      ...common,
      CDC_TABLES: `${p.schema}.${p.table}`,
      CDC_SLOT: p.slot,
      CDC_PUBLICATION: p.slot,
      CDC_TOPIC_TEMPLATE: '{schema}.{table}.changes',
      CDC_STATE_TABLE: `${p.schema}.tideway_cdc_state`,
      CDC_TOPIC_PARTITIONS: '2',
    },
    'dwh-loader': { ...common, DWH_TOPICS: p.changeTopic, DWH_SCHEMA: p.schema, DWH_GROUP_ID: `${p.groupPrefix}-dwh`, DWH_CONCURRENCY: '2' },
    alerting: {
      ...common,
      ALERTING_RULES: p.rulesFile,
      ALERTING_GROUP_ID: `${p.groupPrefix}-alerting`,
      ALERTS_TOPIC: p.alertsTopic,
      ALERTING_INTERNAL_PARTITIONS: '2',
      ALERTING_EVALUATION_THREADS: '0',
    },
    bridge: { ...common, BRIDGE_ROUTES: p.routesFile, BRIDGE_GROUP_PREFIX: `${p.groupPrefix}-bridge-`, BRIDGE_COMMIT_INTERVAL_MS: '200' },
  };
}

function writeServiceFiles(p: PipelinePlan): void {
  writeFileSync(
    p.rulesFile,
    [
      'rules:',
      '  - id: big-amount',
      `    topic: ${p.changeTopic}`,
      '    severity: high',
      '    title: Order over the threshold',
      '    keyBy: after.id',
      `    when: op != "d" && double(after.amount) > ${ALERT_AMOUNT_OVER}.0`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    p.routesFile,
    [
      'routes:',
      `  - name: ${p.id}-kinesis`,
      `    topics: [${p.changeTopic}]`,
      `    kinesis: { stream: ${p.stream}, create: { shards: 1 }, partitionKey: key }`,
      '',
    ].join('\n'),
  );
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const sourceUrl = () => stackEnv().CDC_DATABASE_URL;
const warehouseUrl = () => stackEnv().DWH_DATABASE_URL;

/** Creates the source schema and table (empty) and the services' rules and routes files. */
export async function preparePipelineSource(p: PipelinePlan): Promise<void> {
  writeServiceFiles(p);
  await withClient(sourceUrl(), async (c) => {
    await c.query(`CREATE SCHEMA "${p.schema}"`);
    await c.query(`CREATE TABLE "${p.schema}"."${p.table}" (id bigint PRIMARY KEY, amount bigint NOT NULL, note text)`);
  });
}

export async function insertPipelineRows(p: PipelinePlan, rows: PipelineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await withClient(sourceUrl(), async (c) => {
    const values = rows.map((_, i) => `($${2 * i + 1}::bigint, $${2 * i + 2}::bigint, 'row ' || $${2 * i + 1}::bigint::text)`).join(', ');
    await c.query(
      `INSERT INTO "${p.schema}"."${p.table}" (id, amount, note) VALUES ${values}`,
      rows.flatMap((r) => [r.id, r.amount]),
    );
  });
}

async function rowsOf(url: string, p: PipelinePlan): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ line: string }>(
      `SELECT id::text || ' ' || amount::text || ' ' || coalesce(note, '-') AS line FROM "${p.schema}"."${p.table}" ORDER BY id`,
    );
    return r.rows.map((x) => x.line);
  });
}

/** The source table, one `id amount note` line per row. */
export const sourceRows = (p: PipelinePlan): Promise<string[]> => rowsOf(sourceUrl(), p);

/** The loaded warehouse table, same form; [] while it does not exist yet. */
export const warehouseRows = (p: PipelinePlan): Promise<string[]> => rowsOf(warehouseUrl(), p).catch(() => []);

/** Source-table ids found in the Kinesis stream's records (the change events' `after.id`); [] while the stream is missing. */
export async function streamIds(p: PipelinePlan): Promise<number[]> {
  const client = kinesisClient();
  try {
    const shards = (await client.send(new ListShardsCommand({ StreamName: p.stream }))).Shards ?? [];
    const ids = new Set<number>();
    for (const shard of shards) {
      let it = (await client.send(new GetShardIteratorCommand({ StreamName: p.stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator;
      while (it) {
        const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        for (const r of res.Records ?? []) {
          const event = JSON.parse(Buffer.from(r.Data!).toString('utf8')) as { after?: { id?: number | string } | null };
          if (event.after?.id !== undefined) ids.add(Number(event.after.id));
        }
        if ((res.Records ?? []).length === 0 || res.MillisBehindLatest === 0) break;
        it = res.NextShardIterator;
      }
    }
    return [...ids].sort((a, b) => a - b);
  } catch {
    return [];
  } finally {
    client.destroy();
  }
}

/**
 * Reads `topic` (read_committed, from the beginning) in the background once it exists.
 * `records` grows as they arrive; `close()` stops reading.
 */
export class TopicCollector {
  readonly records: KafkaMessage[] = [];
  private readonly kafka: Kafka;
  private consumer?: ReturnType<Kafka['consumer']>;
  private closed = false;
  private readonly started: Promise<void>;

  constructor(brokers: string, topic: string) {
    this.kafka = new Kafka({ clientId: 'pipeline-collector', brokers: [brokers], logLevel: logLevel.NOTHING });
    this.started = this.start(topic).catch(() => undefined);
  }

  private async start(topic: string): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      while (!this.closed && !(await admin.listTopics()).includes(topic)) await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect();
    }
    if (this.closed) return;
    const consumer = this.kafka.consumer({ groupId: uniqueName('collector'), readUncommitted: false, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void this.records.push(message) });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.started;
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

/** Spawns the four services at the same instant (ports are chosen first). */
export async function startPipelineServices(
  p: PipelinePlan,
  brokers: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Record<PipelineService, TidewayProcess>> {
  const env = pipelineServiceEnv(p, brokers);
  const procs = await Promise.all(PIPELINE_SERVICES.map((s) => TidewayProcess.start(s, { ...env[s], ...extraEnv })));
  return Object.fromEntries(PIPELINE_SERVICES.map((s, i) => [s, procs[i]])) as Record<PipelineService, TidewayProcess>;
}

/** The services that have exited, with their exit code and last log lines. */
export function exitedServices(procs: Record<PipelineService, TidewayProcess>): string[] {
  return PIPELINE_SERVICES.filter((s) => procs[s].child.exitCode !== null || procs[s].child.signalCode !== null).map(
    (s) => `tideway ${s} exited (${procs[s].child.exitCode ?? procs[s].child.signalCode}):\n${procs[s].logs(30)}`,
  );
}

/** SIGTERM to all four; resolves with their exit codes. */
export async function stopPipelineServices(procs: Record<PipelineService, TidewayProcess>): Promise<Record<PipelineService, number | null>> {
  const codes = await Promise.all(PIPELINE_SERVICES.map((s) => procs[s].stop()));
  return Object.fromEntries(PIPELINE_SERVICES.map((s, i) => [s, codes[i]])) as Record<PipelineService, number | null>;
}

/** Drops what the run left on the shared stack: the slot (it pins WAL), publication, schemas, stream. */
export async function dropPipeline(p: PipelinePlan): Promise<void> {
  await withClient(sourceUrl(), async (c) => {
    for (let i = 0; i < 50; i++) {
      const r = await c.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [p.slot]);
      if (r.rows.length === 0) break;
      if (r.rows[0].active_pid) await c.query('SELECT pg_terminate_backend($1)', [r.rows[0].active_pid]);
      if (
        await c.query('SELECT pg_drop_replication_slot($1)', [p.slot]).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r2) => setTimeout(r2, 200));
    }
    await c.query(`DROP PUBLICATION IF EXISTS "${p.slot}"`);
    await c.query(`DROP SCHEMA IF EXISTS "${p.schema}" CASCADE`);
  }).catch(() => undefined);
  await withClient(warehouseUrl(), (c) => c.query(`DROP SCHEMA IF EXISTS "${p.schema}" CASCADE`)).catch(() => undefined);
  const client = kinesisClient();
  await client.send(new DeleteStreamCommand({ StreamName: p.stream, EnforceConsumerDeletion: true })).catch(() => undefined);
  client.destroy();
  rmSync(p.dir, { recursive: true, force: true });
}
