/**
 * Reads, for the summary, how much data landed at each place: PostgreSQL (OLTP and warehouse),
 * the Kafka change and alerts topics, the Kinesis stream, and the two buckets.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Pool } from 'pg';
import type { Admin, Consumer, KafkaClient } from '@tideway/runtime';
import { quoteIdent } from '../postgres-writer';
import { DEMO_TABLES, type PipelinePlan } from './pipeline-plan';

// kinesis-mock speaks HTTP/1.1 only (see /work/shared notes); HTTP/1.1 works against AWS too.
const http1 = () => new NodeHttpHandler({ requestTimeout: 10_000, connectionTimeout: 5_000 });

export class LandingCounter {
  readonly kinesis = new KinesisClient({ requestHandler: http1() });
  readonly s3 = new S3Client({ requestHandler: http1(), forcePathStyle: true });
  private alerts = 0;
  private alertsConsumer?: Consumer;
  private kinesisSeen = new Map<string, { iterator?: string; count: number }>();

  constructor(
    private readonly plan: PipelinePlan,
    private readonly oltp: Pool,
    private readonly warehouse: Pool,
    private readonly kafka: KafkaClient,
    private readonly admin: Admin,
  ) {}

  /** Counts the alerts topic as it grows (read committed: aborted transactions never count). */
  async startAlertsConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `${this.plan.groupPrefix}-summary`, fromBeginning: true, readCommitted: true });
    await consumer.connect();
    await consumer.subscribe([this.plan.alertsTopic]);
    this.alertsConsumer = consumer;
    void consumer.run(async (batch) => {
      this.alerts += batch.messages.length;
    });
  }

  alertsFired(): number {
    return this.alerts;
  }

  async stop(): Promise<void> {
    await this.alertsConsumer?.disconnect();
    this.kinesis.destroy();
    this.s3.destroy();
  }

  async oltpRows(): Promise<number> {
    return this.countRows(this.oltp);
  }

  /** Tables dwh-loader has not created yet count as empty. */
  async warehouseRows(): Promise<number> {
    return this.countRows(this.warehouse);
  }

  private async countRows(pool: Pool): Promise<number> {
    const present = await pool.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2)', [this.plan.schema, [...DEMO_TABLES]]);
    let total = 0;
    for (const { table_name } of present.rows) {
      const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(this.plan.schema)}.${quoteIdent(table_name)}`);
      total += Number(r.rows[0].n);
    }
    return total;
  }

  /** cdc's producer is idempotent, not transactional: end offsets of the fresh topics are the event counts. */
  async eventsCaptured(): Promise<number> {
    let total = 0;
    for (const table of DEMO_TABLES) {
      for (const p of await this.admin.endOffsets(this.plan.topics[table])) total += Number(p.offset);
    }
    return total;
  }

  private kinesisReading?: Promise<number>;

  /**
   * Reads the stream incrementally from TRIM_HORIZON (kinesis-mock slows down when re-reading a full
   * stream). One read at a time: two overlapping reads (the progress ticker and the final count)
   * would follow the same shard iterators and count the same records twice.
   */
  kinesisRecords(): Promise<number> {
    return (this.kinesisReading ??= this.readKinesis().finally(() => (this.kinesisReading = undefined)));
  }

  private async readKinesis(): Promise<number> {
    let shards;
    try {
      shards = (await this.kinesis.send(new ListShardsCommand({ StreamName: this.plan.kinesisStream }))).Shards ?? [];
    } catch {
      return 0; // the bridge has not created the stream yet
    }
    for (const shard of shards) {
      const id = shard.ShardId!;
      let state = this.kinesisSeen.get(id);
      if (!state) {
        const it = await this.kinesis.send(new GetShardIteratorCommand({ StreamName: this.plan.kinesisStream, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }));
        state = { iterator: it.ShardIterator, count: 0 };
        this.kinesisSeen.set(id, state);
      }
      for (let page = 0; page < 20 && state.iterator; page++) {
        const r = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
        state.count += r.Records?.length ?? 0;
        state.iterator = r.NextShardIterator;
        if (!r.Records?.length || r.MillisBehindLatest === 0) break;
      }
    }
    return [...this.kinesisSeen.values()].reduce((n, s) => n + s.count, 0);
  }

  async objects(bucket: string): Promise<number> {
    let total = 0;
    let token: string | undefined;
    try {
      do {
        const r = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        total += r.KeyCount ?? 0;
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch {
      return 0; // not created yet
    }
    return total;
  }
}
