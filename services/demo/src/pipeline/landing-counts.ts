/**
 * Reads, for the summary, what landed at each place: PostgreSQL (OLTP and warehouse, row by row),
 * the Kafka change and alerts topics, the Kinesis stream, the transactions topic through
 * `tideway kinesis-api`, and the two buckets (record by record).
 * Every reader is incremental — a record or object already read is not read again — so the
 * progress line and the settle loop can ask often.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { gunzipSync } from 'node:zlib';
import type { Pool } from 'pg';
import type { Admin, Consumer, KafkaClient } from '@tideway/runtime';
import { quoteIdent } from '../postgres-writer';
import { DEMO_TABLES, kinesisApiStream, type DemoTable, type PipelinePlan } from './pipeline-plan';
import { compareRows, type RowComparison } from './summary';

// kinesis-mock speaks HTTP/1.1 only; HTTP/1.1 works against AWS too.
const http1 = () => new NodeHttpHandler({ requestTimeout: 10_000, connectionTimeout: 5_000 });

/** A multiset of record values. */
class Values extends Map<string, number> {
  add(value: string): void {
    this.set(value, (this.get(value) ?? 0) + 1);
  }
}

/** Newline-delimited records of one object (gzip when the key or the bytes say so). */
export function objectRecords(key: string, body: Buffer): string[] {
  const text = key.endsWith('.gz') || (body[0] === 0x1f && body[1] === 0x8b) ? gunzipSync(body).toString('utf8') : body.toString('utf8');
  return text.split('\n').filter((line) => line.length > 0);
}

export class BucketReader {
  readonly values = new Values();
  private readonly seen = new Set<string>();

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  get objects(): number {
    return this.seen.size;
  }

  private refreshing?: Promise<void>;

  /** Reads the objects that appeared since the last call. One read at a time, so no object is counted twice. */
  refresh(): Promise<void> {
    return (this.refreshing ??= this.readNewObjects().finally(() => (this.refreshing = undefined)));
  }

  private async readNewObjects(): Promise<void> {
    let token: string | undefined;
    try {
      do {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token }));
        for (const { Key } of page.Contents ?? []) {
          if (!Key || this.seen.has(Key)) continue;
          const obj = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
          for (const record of objectRecords(Key, Buffer.from(await obj.Body!.transformToByteArray()))) this.values.add(record);
          this.seen.add(Key);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      if ((err as { name?: string }).name !== 'NoSuchBucket') throw err; // not created yet
    }
  }
}

export class LandingCounter {
  readonly kinesis = new KinesisClient({ requestHandler: http1() });
  readonly s3 = new S3Client({ requestHandler: http1(), forcePathStyle: true });
  readonly firehoseBucket: BucketReader;
  readonly lakeBucket: BucketReader;
  private alerts = 0;
  private readonly topicValues = new Map<string, Values>();
  private topicConsumer?: Consumer;
  private readonly kinesisStream: KinesisStreamReader;
  private kinesisApi?: KinesisClient;
  private kinesisApiStream?: KinesisStreamReader;

  constructor(
    private readonly plan: PipelinePlan,
    private readonly oltp: Pool,
    private readonly warehouse: Pool,
    private readonly kafka: KafkaClient,
    private readonly admin: Admin,
  ) {
    this.firehoseBucket = new BucketReader(this.s3, plan.firehoseBucket);
    this.lakeBucket = new BucketReader(this.s3, plan.lakeBucket);
    this.kinesisStream = new KinesisStreamReader(this.kinesis, plan.kinesisStream, 1000);
    for (const table of DEMO_TABLES) this.topicValues.set(plan.topics[table], new Values());
  }

  /** Reads the change topics (what the bridge must deliver) and the alerts topic (read committed: aborted transactions never count). */
  async startTopicReader(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `${this.plan.groupPrefix}-summary`, fromBeginning: true, readCommitted: true });
    await consumer.connect();
    await consumer.subscribe([this.plan.alertsTopic, ...this.topicValues.keys()]);
    this.topicConsumer = consumer;
    void consumer.run(async (batch) => {
      if (batch.topic === this.plan.alertsTopic) {
        this.alerts += batch.messages.length;
        return;
      }
      const values = this.topicValues.get(batch.topic)!;
      for (const m of batch.messages) if (m.value) values.add(m.value.toString('utf8'));
    });
  }

  /** Reads the transactions topic back through `tideway kinesis-api` at `endpoint` (no authentication: any credentials). */
  startKinesisApiReader(endpoint: string): void {
    this.kinesisApi = new KinesisClient({ endpoint, requestHandler: http1() });
    this.kinesisApiStream = new KinesisStreamReader(this.kinesisApi, kinesisApiStream(this.plan), 10_000);
  }

  /** The change events of one table's topic read so far. */
  changeEvents(table: DemoTable): ReadonlyMap<string, number> {
    return this.topicValues.get(this.plan.topics[table])!;
  }

  alertsFired(): number {
    return this.alerts;
  }

  async stop(): Promise<void> {
    await this.topicConsumer?.disconnect();
    this.kinesis.destroy();
    this.kinesisApi?.destroy();
    this.s3.destroy();
  }

  /**
   * The OLTP tables against the warehouse tables: the source's columns, row by row, by primary key.
   * The warehouse's tables are in `warehouseSchema` (the run's own schema, as `npm run demo` loads them).
   */
  async warehouseComparison(warehouseSchema = this.plan.schema): Promise<RowComparison> {
    const source = new Map<string, string>();
    const warehouse = new Map<string, string>();
    for (const table of DEMO_TABLES) {
      const columns = await this.oltp.query<{ column_name: string; key: boolean }>(
        `SELECT a.attname AS column_name, coalesce(a.attnum = ANY(i.indkey), false) AS key
           FROM pg_attribute a
           LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
          WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [`${quoteIdent(this.plan.schema)}.${quoteIdent(table)}`],
      );
      const all = columns.rows.map((c) => quoteIdent(c.column_name)).join(', ');
      const keys = columns.rows
        .filter((c) => c.key)
        .map((c) => quoteIdent(c.column_name))
        .join(', ');
      // The table name keeps keys of different tables apart; ROW(...)::text renders every type the same way on both sides.
      const sql = (schema: string) => `SELECT $1 || ROW(${keys})::text AS k, ROW(${all})::text AS v FROM ${quoteIdent(schema)}.${quoteIdent(table)}`;
      for (const r of (await this.oltp.query<{ k: string; v: string }>(sql(this.plan.schema), [table])).rows) source.set(r.k, r.v);
      const present = await this.warehouse.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [
        warehouseSchema,
        table,
      ]);
      if (present.rowCount === 0) continue; // dwh-loader has not created it yet
      for (const r of (await this.warehouse.query<{ k: string; v: string }>(sql(warehouseSchema), [table])).rows) warehouse.set(r.k, r.v);
    }
    return compareRows(source, warehouse);
  }

  /** cdc's producer is idempotent, not transactional: end offsets of the fresh topics are the event counts. */
  async eventsCaptured(): Promise<number> {
    let total = 0;
    for (const table of DEMO_TABLES) {
      for (const p of await this.admin.endOffsets(this.plan.topics[table])) total += Number(p.offset);
    }
    return total;
  }

  /** The bridge's Kinesis stream (kinesis-mock), read so far. */
  kinesisRecords(): Promise<ReadonlyMap<string, number>> {
    return this.kinesisStream.refresh();
  }

  /** The transactions topic read through `tideway kinesis-api` (started with `startKinesisApiReader`), read so far. */
  kinesisApiRecords(): Promise<ReadonlyMap<string, number>> {
    return this.kinesisApiStream ? this.kinesisApiStream.refresh() : Promise.resolve(new Values());
  }
}

/**
 * A Kinesis stream's records, read incrementally from TRIM_HORIZON over every shard (kinesis-mock
 * slows down when re-reading a full stream). One read at a time: two overlapping reads (the progress
 * ticker and the final count) would follow the same shard iterators and count the same records twice.
 */
export class KinesisStreamReader {
  readonly values = new Values();
  private readonly iterators = new Map<string, string | undefined>();
  private reading?: Promise<ReadonlyMap<string, number>>;

  constructor(
    private readonly kinesis: KinesisClient,
    readonly stream: string,
    private readonly limit: number,
  ) {}

  refresh(): Promise<ReadonlyMap<string, number>> {
    return (this.reading ??= this.readNew().finally(() => (this.reading = undefined)));
  }

  private async readNew(): Promise<ReadonlyMap<string, number>> {
    let shards;
    try {
      shards = (await this.kinesis.send(new ListShardsCommand({ StreamName: this.stream }))).Shards ?? [];
    } catch {
      return this.values; // the stream does not exist yet
    }
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (!this.iterators.has(id)) {
        const it = await this.kinesis.send(new GetShardIteratorCommand({ StreamName: this.stream, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }));
        this.iterators.set(id, it.ShardIterator);
      }
      for (let page = 0; page < 20 && this.iterators.get(id); page++) {
        const r = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterators.get(id), Limit: this.limit }));
        for (const record of r.Records ?? []) this.values.add(Buffer.from(record.Data!).toString('utf8'));
        this.iterators.set(id, r.NextShardIterator);
        if (!r.Records?.length || r.MillisBehindLatest === 0) break;
      }
    }
    return this.values;
  }
}
