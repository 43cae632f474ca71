/**
 * The only place that touches Kafka: streams as topics, their offsets and `retention.ms`, the
 * shared stream metadata (mode, creation time, tags) in a compacted topic, writes with one
 * idempotent producer (acks=all) and groupless read_committed reads. A Kafka failure the client
 * reports as transient is answered as ServiceUnavailable (the SDKs retry it) and shown in /readyz.
 */
import {
  canRetry,
  errorMessage,
  type Admin,
  type DeliveryReport,
  type DependencyHealth,
  type KafkaClient,
  type Logger,
  type PartitionReader,
  type PartitionReadResult,
  type Producer,
  sleep,
  TidewayError,
} from '@tideway/runtime';
import { KinesisApiError } from './errors';
import { MAX_GET_RECORDS_BYTES } from './protocol/operations';
import { streamNamesOf } from './stream-names';
import { encodeMetadata, foldMetadata, METADATA_TOPIC, type StreamMetadata } from './stream-metadata';

const HEALTH_OPERATION = 'serve requests';
/**
 * GetRecords reads in flight at once; others wait their turn. Each holds a fetch response and its
 * answer (together ~35 MiB for 10 MiB of records); two keep both cores busy.
 */
const CONCURRENT_READS = 2;
/**
 * How long PutRecords and GetRecords trust a stream's shard count without asking Kafka again. A
 * stream deleted or created through another instance is seen within this time; this instance's own
 * changes at once.
 */
const SHARD_COUNT_TTL_MS = 2_000;
/** Longest wait for any other Kafka call (metadata, offsets, configs, reads) before answering ServiceUnavailable. */
const CALL_TIMEOUT_MS = 15_000;
/** Longest wait for a changed retention to be answered by the broker. */
const RETENTION_VISIBLE_MS = 5_000;

export interface OutgoingRecord {
  readonly partition: number;
  /** Null for a record without a key (Firehose's). */
  readonly key: string | null;
  readonly value: Buffer;
  readonly timestampMs: number;
}

/** Per record, in the order given: its offset, or why Kafka refused it. */
export type SendResult = { offset: bigint } | { error: string };

export interface StreamStoreOptions {
  readonly kafka: KafkaClient;
  readonly prefix: string;
  readonly health: DependencyHealth;
  readonly logger: Logger;
  /** Longest wait for Kafka's acknowledgement of a write, in ms. @default 10000 */
  readonly writeTimeoutMs?: number;
}

export class StreamStore {
  private admin?: Admin;
  private producer?: Producer;
  private reader?: PartitionReader;
  private readonly shardCounts = new Map<string, { count: number; untilMs: number }>();

  constructor(private readonly o: StreamStoreOptions) {}

  /** Connects the admin and the producer, opens the reader and makes sure the metadata topic exists. */
  async connect(signal: AbortSignal): Promise<void> {
    const { kafka, health } = this.o;
    const step = <T>(operation: string, fn: () => Promise<T>) => health.retry('kafka', operation, fn, { signal });
    this.admin = kafka.admin();
    await step('connect admin', () => this.admin!.connect());
    await step('ensure metadata topic', () => this.admin!.ensureTopics([{ topic: METADATA_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' } }]));
    // A put waits for its records' acknowledgement: at a few thousand records/s, 1 ms of linger instead
    // of 5 takes 4 ms off every answer; under load, records batch while earlier requests are in flight.
    this.producer = kafka.producer({ idempotent: true, lingerMs: 1 });
    await step('connect producer', () => this.producer!.connect());
    this.reader = kafka.partitionReader({ readCommitted: true, concurrency: CONCURRENT_READS, prefetchMaxBytes: MAX_GET_RECORDS_BYTES });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.reader?.close(), this.producer?.disconnect(), this.admin?.disconnect()]);
  }

  topicOf(stream: string): string {
    return this.o.prefix + stream;
  }

  /** Runs a Kafka call: a transient failure marks Kafka down and answers ServiceUnavailable. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      // The clients' own timeouts do not hold while no broker is reachable (a metadata request
      // waits for a connection): a call without an answer is a failed call.
      const out = await within(fn(), CALL_TIMEOUT_MS, `Kafka did not answer (${what}) within ${CALL_TIMEOUT_MS} ms`);
      this.o.health.ok('kafka', HEALTH_OPERATION);
      return out;
    } catch (err) {
      if (err instanceof KinesisApiError || !canRetry(err)) throw err;
      this.o.health.down('kafka', HEALTH_OPERATION, err);
      this.o.logger.debug({ err: errorMessage(err), what }, 'kafka call failed');
      throw new KinesisApiError('ServiceUnavailable', `The service is unavailable (Kafka: ${what} failed); try again.`);
    }
  }

  private get a(): Admin {
    if (!this.admin) throw new KinesisApiError('ServiceUnavailable', 'The service is starting; try again.');
    return this.admin;
  }

  /** Stream names: the topics with the prefix, without internal (`_…`) and dead-letter (`.dlq`) topics. */
  async listStreams(): Promise<string[]> {
    return streamNamesOf(await this.call('list topics', () => this.a.listTopics()), this.o.prefix);
  }

  /** Shards of the stream; 0 when it does not exist. */
  async shardCount(stream: string): Promise<number> {
    const count = await this.call('read topic metadata', () => this.a.partitionCount(this.topicOf(stream)));
    if (count > 0) this.shardCounts.set(stream, { count, untilMs: Date.now() + SHARD_COUNT_TTL_MS });
    else this.shardCounts.delete(stream);
    return count;
  }

  /** Shards of the stream as known within the last SHARD_COUNT_TTL_MS (the data path's lookup). */
  async recentShardCount(stream: string): Promise<number> {
    const known = this.shardCounts.get(stream);
    if (known && known.untilMs > Date.now()) return known.count;
    return this.shardCount(stream);
  }

  /** Creates the topic; false when it existed already. */
  async createStream(stream: string, shards: number, retentionMs: number, metadata: StreamMetadata): Promise<boolean> {
    const topic = this.topicOf(stream);
    if ((await this.shardCount(stream)) > 0) return false;
    const created = await this.call('create topic', () =>
      this.a.ensureTopics([{ topic, partitions: shards, configs: { 'retention.ms': String(retentionMs) } }]),
    );
    if (!created.includes(topic)) return false;
    await this.putMetadata(stream, metadata);
    return true;
  }

  async deleteStream(stream: string): Promise<void> {
    this.shardCounts.delete(stream);
    await this.call('delete topic', () => this.a.deleteTopics([this.topicOf(stream)]));
    await this.call('write stream metadata', () => this.producer!.send([{ topic: METADATA_TOPIC, partition: 0, key: this.topicOf(stream), value: null }]));
  }

  /** The metadata of the given streams as last written by any instance; absent for a stream without any. */
  async metadata(streams: readonly string[]): Promise<Map<string, StreamMetadata>> {
    const records = await this.call('read stream metadata', async () => {
      const end = BigInt((await this.a.endOffsets(METADATA_TOPIC)).find((p) => p.partition === 0)?.offset ?? '0');
      const out: Array<{ key: Buffer | null; value: Buffer | null }> = [];
      let next = 0n;
      while (next < end) {
        const r = await this.reader!.read({ topic: METADATA_TOPIC, partition: 0, offset: next.toString(), maxRecords: 10_000, maxWaitMs: 0 });
        out.push(...r.messages);
        const after = BigInt(r.nextOffset);
        if (after <= next) break;
        next = after;
      }
      return out;
    });
    const byTopic = foldMetadata(records);
    const out = new Map<string, StreamMetadata>();
    for (const s of streams) {
      const m = byTopic.get(this.topicOf(s));
      if (m) out.set(s, m);
    }
    return out;
  }

  async putMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    await this.call('write stream metadata', () =>
      this.producer!.send([{ topic: METADATA_TOPIC, partition: 0, key: this.topicOf(stream), value: encodeMetadata(metadata) }]),
    );
  }

  /** The first available offset of each partition, in partition order. */
  async startOffsets(stream: string): Promise<bigint[]> {
    return byPartition(await this.call('read start offsets', () => this.a.startOffsets(this.topicOf(stream))));
  }

  async endOffsets(stream: string): Promise<bigint[]> {
    return byPartition(await this.call('read end offsets', () => this.a.endOffsets(this.topicOf(stream))));
  }

  async offsetsForTimestamp(stream: string, timestampMs: number): Promise<bigint[]> {
    return byPartition(await this.call('look up offsets by time', () => this.a.offsetsForTimestamp(this.topicOf(stream), timestampMs)));
  }

  /** The topic's `retention.ms` (-1: unlimited). */
  async retentionMs(stream: string): Promise<number> {
    const configs = await this.call('read topic config', () => this.a.topicConfigs(this.topicOf(stream), ['retention.ms']));
    return Number(configs['retention.ms'] ?? '-1');
  }

  /**
   * Sets `retention.ms` and waits (up to RETENTION_VISIBLE_MS) until the broker answers the new
   * value: Kafka applies a config change a moment after acknowledging it, and a client that asks
   * for the stream's retention next expects the period it just set.
   */
  async setRetentionMs(stream: string, ms: number): Promise<void> {
    await this.call('alter topic config', () => this.a.alterTopicConfigs(this.topicOf(stream), { 'retention.ms': String(ms) }));
    const until = Date.now() + RETENTION_VISIBLE_MS;
    while ((await this.retentionMs(stream)) !== ms && Date.now() < until) await sleep(50);
  }

  /**
   * Writes records, one send per partition so that a partition Kafka refuses fails only its own
   * records. Throws ServiceUnavailable when every send failed on a transient error.
   */
  async send(stream: string, records: readonly OutgoingRecord[]): Promise<SendResult[]> {
    const topic = this.topicOf(stream);
    const groups = new Map<number, number[]>();
    records.forEach((r, i) => {
      const g = groups.get(r.partition);
      if (g) g.push(i);
      else groups.set(r.partition, [i]);
    });
    const results: SendResult[] = new Array(records.length);
    const failures: unknown[] = [];
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        let reports: DeliveryReport[];
        try {
          reports = await this.withinWriteTimeout(
            this.producer!.send(
              indexes.map((i) => ({ topic, partition: records[i].partition, key: records[i].key, value: records[i].value, timestamp: records[i].timestampMs })),
            ),
          );
        } catch (err) {
          failures.push(err);
          for (const i of indexes) results[i] = { error: errorMessage(err) };
          return;
        }
        indexes.forEach((i, n) => (results[i] = { offset: BigInt(reports[n].offset) }));
      }),
    );
    if (failures.length === groups.size && failures.length > 0) await this.call('write records', () => Promise.reject(failures[0]));
    if (failures.length === 0) this.o.health.ok('kafka', HEALTH_OPERATION);
    return results;
  }

  /**
   * The producer's promise, or a transient error once the write timeout passed: while Kafka is away
   * the producer holds records until its own delivery timeout, far longer than a client waits.
   */
  private withinWriteTimeout<T>(sending: Promise<T>): Promise<T> {
    const ms = this.o.writeTimeoutMs ?? 10_000;
    return within(sending, ms, `Kafka did not acknowledge the records within ${ms} ms`);
  }

  read(stream: string, partition: number, offset: bigint, maxRecords: number, maxBytes: number): Promise<PartitionReadResult> {
    return this.call('read records', () =>
      this.reader!.read({ topic: this.topicOf(stream), partition, offset: offset.toString(), maxRecords, maxBytes, maxWaitMs: 0 }),
    );
  }

  /** A cheap request that shows whether Kafka answers (for /readyz while no client calls). */
  async probe(): Promise<void> {
    await this.call('list topics', () => this.a.listTopics());
  }
}

/** `work`'s outcome, or a transient error (DELIVERY_FAILED) once `ms` passed without one. */
function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TidewayError('DELIVERY_FAILED', message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function byPartition(offsets: ReadonlyArray<{ partition: number; offset: string }>): bigint[] {
  const out: bigint[] = [];
  for (const o of offsets) out[o.partition] = BigInt(o.offset);
  return out;
}
