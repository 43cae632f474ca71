/**
 * kinesis route: PutRecords within AWS limits, per-record retries that never reorder a key,
 * per-shard rate limiting, optional KPL aggregation of a key's consecutive records.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { sleep, type BackoffPolicy, type Logger } from '@tideway/runtime';
import { BatchSender } from '../batch-sender';
import { awsErrorCode, DestinationMissingError, DLQ_REASONS } from '../errors';
import { outcomesOfBatchCall, type UnitOutcome, type Unit } from '../key-ordered-retry-queue';
import { LIMITS } from '../limits';
import type { BridgeMetrics } from '../metrics';
import { partitionKeyFor, partitionKeyHash } from '../partition-key';
import type { KinesisDestination } from '../routes';
import type { BridgeRecord, RecordOutcomes, Sink } from '../sink';
import { aggregate, aggregatedRecordOverhead, KPL_FRAMING_BYTES } from './kpl-aggregation';
import { ShardWriteBudget, type ShardRange } from './shard-write-budget';

export interface KinesisSinkOptions {
  route: string;
  destination: KinesisDestination;
  client: KinesisClient;
  logger: Logger;
  metrics: BridgeMetrics;
  outcomes: RecordOutcomes;
  backoff: BackoffPolicy;
  maxInFlight: number;
  maxBufferedBytes: number;
  shardMapRefreshMs: number;
}

export class KinesisSink implements Sink {
  readonly kind = 'kinesis' as const;
  readonly maxBufferedBytes: number;
  private readonly sender: BatchSender;
  private readonly budget = new ShardWriteBudget();
  private shardTimer?: NodeJS.Timeout;
  private readonly shardCache = new Map<string, string>();

  constructor(private readonly o: KinesisSinkOptions) {
    this.maxBufferedBytes = o.maxBufferedBytes;
    const agg = o.destination.aggregation;
    this.sender = new BatchSender({
      route: o.route,
      maxInFlight: o.maxInFlight,
      backoff: o.backoff,
      logger: o.logger,
      metrics: o.metrics,
      outcomes: o.outcomes,
      limits: () => ({
        maxUnits: LIMITS.kinesis.maxRecordsPerRequest,
        maxBytes: LIMITS.kinesis.maxRequestBytes,
        unitMaxRecords: agg.enabled ? 10_000 : 1,
        unitMaxBytes: agg.enabled ? agg.maxBytes : LIMITS.kinesis.maxRecordBytes,
        unitOverheadBytes: agg.enabled ? (key) => KPL_FRAMING_BYTES + 8 + Buffer.byteLength(key) * 2 : undefined,
        admit: (key, bytes, records) => this.budget.tryTake(this.shardOf(key), records, bytes, Date.now()),
        admitAt: (key, bytes, records) => this.budget.availableAt(this.shardOf(key), records, bytes, Date.now()),
      }),
      send: (units) => this.putRecords(units),
      onThrottled: (u, now) => this.budget.throttled(this.shardOf(u.key), now),
    });
  }

  /** Shard of a partition key; memoised (MD5 per request per key is a measurable cost), bounded. */
  private shardOf(key: string): string | undefined {
    let shard = this.shardCache.get(key);
    if (shard === undefined) {
      shard = this.budget.shardFor(partitionKeyHash(key));
      if (shard === undefined) return undefined;
      if (this.shardCache.size >= 100_000) this.shardCache.clear();
      this.shardCache.set(key, shard);
    }
    return shard;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const { client, destination: d, route, logger } = this.o;
    let status: string | undefined;
    try {
      const res = await client.send(new DescribeStreamSummaryCommand({ StreamName: d.stream }));
      status = res.StreamDescriptionSummary?.StreamStatus;
    } catch (err) {
      if (awsErrorCode(err) !== 'ResourceNotFoundException') throw err;
      if (!d.create) throw new DestinationMissingError(route, `Kinesis stream "${d.stream}"`);
      logger.info({ route, stream: d.stream, create: d.create }, 'creating Kinesis stream');
      try {
        await client.send(
          new CreateStreamCommand(
            'shards' in d.create
              ? { StreamName: d.stream, ShardCount: d.create.shards }
              : { StreamName: d.stream, StreamModeDetails: { StreamMode: 'ON_DEMAND' } },
          ),
        );
      } catch (e) {
        // Another instance may have created it in the meantime.
        if (awsErrorCode(e) !== 'ResourceInUseException') throw e;
      }
    }
    while (status !== 'ACTIVE' && status !== 'UPDATING' && !signal.aborted) {
      await sleep(status === undefined ? 200 : 500, signal);
      const res = await client.send(new DescribeStreamSummaryCommand({ StreamName: d.stream }));
      status = res.StreamDescriptionSummary?.StreamStatus;
    }
    await this.refreshShards();
    this.shardTimer = setInterval(
      () => void this.refreshShards().catch((err) => logger.warn({ route, err }, 'could not refresh the shard map')),
      this.o.shardMapRefreshMs,
    );
    this.shardTimer.unref();
  }

  private async refreshShards(): Promise<void> {
    const shards: ShardRange[] = [];
    let token: string | undefined;
    do {
      const res = await this.o.client.send(
        token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: this.o.destination.stream }),
      );
      for (const s of res.Shards ?? []) {
        if (s.SequenceNumberRange?.EndingSequenceNumber) continue; // closed by resharding
        shards.push({ shardId: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) });
      }
      token = res.NextToken;
    } while (token);
    this.budget.setShards(shards);
    this.shardCache.clear();
  }

  submit(records: readonly BridgeRecord[]): void {
    const { destination: d, outcomes } = this.o;
    for (const r of records) {
      const partitionKey = partitionKeyFor(d.partitionKey, r.message);
      const keyBytes = Buffer.byteLength(partitionKey, 'utf8');
      if (r.data.length + keyBytes > LIMITS.kinesis.maxRecordBytes) {
        outcomes.deadLetter(
          r,
          DLQ_REASONS.tooLarge,
          `record is ${r.data.length + keyBytes} bytes with its partition key; Kinesis accepts at most ${LIMITS.kinesis.maxRecordBytes}`,
        );
        continue;
      }
      const bytes = d.aggregation.enabled ? aggregatedRecordOverhead(r.data.length) : r.data.length + keyBytes;
      this.sender.queue.enqueue({ key: partitionKey, bytes, payload: r, enqueuedAt: r.readAt });
    }
    this.sender.pump();
  }

  submitFailed(records: readonly BridgeRecord[]): void {
    for (const r of records) this.o.outcomes.deadLetter(r, DLQ_REASONS.transformFailed, r.transformError ?? 'transform failed');
  }

  private async putRecords(units: readonly Unit<BridgeRecord>[]): Promise<UnitOutcome[]> {
    const entries: PutRecordsRequestEntry[] = units.map((u) =>
      u.entries.length === 1
        ? { PartitionKey: u.key, Data: u.entries[0].payload.data }
        : {
            PartitionKey: u.key,
            Data: aggregate(
              u.key,
              u.entries.map((e) => e.payload.data),
            ),
          },
    );
    const res = await this.o.client.send(new PutRecordsCommand({ StreamName: this.o.destination.stream, Records: entries }));
    return outcomesOfBatchCall('PutRecords', units.length, res.Records ?? []);
  }

  bufferedBytes(): number {
    return this.sender.bytes;
  }

  drain(signal: AbortSignal): Promise<void> {
    return this.sender.drain(signal);
  }

  close(): void {
    this.sender.close();
    if (this.shardTimer) clearInterval(this.shardTimer);
  }
}
