/**
 * Groupless reads at exact offsets with Kafka's Fetch request, over kafkajs's protocol layer (its
 * broker connections with SASL and TLS, metadata and record-batch decoding): no consumer, no
 * group, nothing fetched ahead. A read is one fetch sized to what it may return; its records are
 * views into the fetch response, with no copy per record. This costs about half the CPU per
 * record of reading through a librdkafka consumer (docs/benchmarks.md).
 *
 * kafkajs decodes uncompressed and gzip batches only: a batch compressed with snappy, lz4 or zstd
 * is read by the fallback reader when one is given (the librdkafka one), else the read fails.
 */
import { TidewayError } from '../errors';
import { stepAfterFetch } from './partition-read';
import type { IncomingMessage, PartitionRead, PartitionReader, PartitionReaderOptions, PartitionReadResult } from './types';

/* eslint-disable @typescript-eslint/no-explicit-any */
// kafkajs's protocol layer has no typings of its own; the version is pinned (package-lock, patches/).
const kafkajsModule = (path: string) => require(`kafkajs/src/${path}`) as any;

/** The kafkajs settings a cluster is made from (what `new Kafka(config)` takes). */
export interface FetchReaderConnection {
  brokers: string[];
  clientId?: string;
  ssl?: unknown;
  sasl?: unknown;
  connectionTimeout?: number;
  logLevel?: number;
  logCreator?: unknown;
}

interface KjsMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[] | undefined>;
}

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
/** ListOffsets' special timestamps. */
const EARLIEST = -2;
const LATEST = -1;
/** Below this, a read's fetch size is not cut to its record count (a fetch returns whole batches anyway). */
const MIN_FETCH_BYTES = 64 * 1024;
/** Kafka errors after which the partition's leader is looked up again. */
const STALE_LEADER = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
]);
/** kafkajs's retries of connecting and of metadata requests, for one read. */
const READ_RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 };
/** Longest wait for a metadata or ListOffsets answer (a fetch's own bound is its wait plus this). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Fetches one read makes at most when it meets only markers and aborted records. */
const MAX_FETCHES_PER_READ = 50;

function toIncoming(topic: string, partition: number, m: KjsMessage): IncomingMessage {
  const headers: Record<string, Buffer | undefined> = {};
  if (m.headers) for (const k in m.headers) headers[k] = firstOf(m.headers[k]);
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers, timestamp: Number(m.timestamp) };
}

function firstOf(v: Buffer | Buffer[] | undefined): Buffer | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isUnsupportedCodec(err: unknown): boolean {
  return (err as { name?: string }).name === 'KafkaJSNotImplemented';
}

export class FetchPartitionReader implements PartitionReader {
  private cluster?: any;
  private connecting?: Promise<any>;
  /** Per topic, the leader's node id of each partition, from the last metadata lookup. */
  private readonly leaders = new Map<string, number[]>();
  private readonly isolation: number;
  private readonly fetchMaxBytesPerPartition: number;
  private readonly concurrency: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Average bytes per record seen (key, value and record overhead), to size a fetch to a record count. */
  private bytesPerRecord = 1024;
  private fallbackReader?: PartitionReader;
  private closed = false;

  constructor(
    private readonly connection: FetchReaderConnection,
    options: PartitionReaderOptions = {},
    private readonly fallback?: () => PartitionReader,
  ) {
    this.isolation = (options.readCommitted ?? true) ? READ_COMMITTED : READ_UNCOMMITTED;
    this.fetchMaxBytesPerPartition = options.fetchMaxBytesPerPartition ?? 10 * 1_048_576;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  async read(r: PartitionRead): Promise<PartitionReadResult> {
    if (this.closed) throw new TidewayError('CONNECTION_FAILED', 'partition reader is closed');
    if (!/^\d+$/.test(r.offset)) throw new RangeError(`offset ${r.offset} is not a non-negative integer`);
    await this.admit();
    try {
      if (this.closed) throw new TidewayError('CONNECTION_FAILED', 'partition reader closed');
      return await this.readOnce(r);
    } catch (err) {
      if (isUnsupportedCodec(err) && this.fallback) {
        this.fallbackReader ??= this.fallback();
        return this.fallbackReader.read(r);
      }
      throw err;
    } finally {
      this.release();
    }
  }

  private async readOnce(r: PartitionRead): Promise<PartitionReadResult> {
    const maxRecords = Math.max(1, r.maxRecords);
    let start = BigInt(r.offset);
    for (let fetches = 0; ; fetches++) {
      const answer = await this.fetch(r.topic, r.partition, start, maxRecords, r.maxBytes, r.maxWaitMs ?? 500);
      if (answer.outOfRange) {
        const ends = await this.ends(r.topic, r.partition);
        // Past the end: nothing yet. Below the log start: records deleted, reading starts at the log start.
        if (start >= ends.high) return { messages: [], nextOffset: start.toString(), highWatermark: String(ends.high), logStartOffset: String(ends.low) };
        if (start < ends.low) {
          start = ends.low;
          continue;
        }
        throw new TidewayError('CONNECTION_FAILED', `offset ${start} of ${r.topic}/${r.partition} was out of range within [${ends.low}, ${ends.high}]`);
      }
      const { batch, high, low } = answer;
      const usable: KjsMessage[] = batch.messages;
      const lastFetched = batch.isEmptyIncludingFiltered() ? undefined : BigInt(batch.lastOffset());
      const step = stepAfterFetch(start, usable, lastFetched, high, maxRecords, r.maxBytes);
      if (step.kind === 'skip' && fetches < MAX_FETCHES_PER_READ && !this.closed) {
        start = step.next;
        continue;
      }
      const count = step.kind === 'records' ? step.count : 0;
      const messages = new Array<IncomingMessage>(count);
      for (let i = 0; i < count; i++) messages[i] = toIncoming(r.topic, r.partition, usable[i]);
      return { messages, nextOffset: step.next.toString(), highWatermark: (high > step.next ? high : step.next).toString(), logStartOffset: low.toString() };
    }
  }

  /** One fetch of a partition from `offset`: the decoded batch and the partition's ends, or out of range. */
  private async fetch(
    topic: string,
    partition: number,
    offset: bigint,
    maxRecords: number,
    maxBytes: number | undefined,
    maxWaitMs: number,
  ): Promise<{ outOfRange: true } | { outOfRange: false; batch: any; high: bigint; low: bigint }> {
    const Batch = kafkajsModule('consumer/batch');
    // About what the read may return: a fetch of 10 MiB for a read of 10 records decodes 10 MiB.
    const byCount = Math.max(MIN_FETCH_BYTES, Math.ceil(maxRecords * this.bytesPerRecord * 1.25));
    const bytes = Math.min(this.fetchMaxBytesPerPartition, maxBytes ?? Infinity, byCount);
    const fetchBytes = Math.max(MIN_FETCH_BYTES, bytes);
    const response = await this.withLeader(topic, partition, (broker) =>
      broker.fetch({
        isolationLevel: this.isolation,
        maxWaitTime: Math.max(0, maxWaitMs),
        minBytes: 1,
        maxBytes: fetchBytes,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes: fetchBytes }] }],
      }),
    ).catch((err: any) => {
      if (err?.type === 'OFFSET_OUT_OF_RANGE') return undefined;
      throw err;
    });
    if (response === undefined) return { outOfRange: true };
    const data = response.responses?.[0]?.partitions?.[0];
    if (!data) throw new TidewayError('CONNECTION_FAILED', `the fetch of ${topic}/${partition} answered no partition`);
    const batch = new Batch(topic, offset.toString(), data);
    this.learnRecordSize(batch.messagesWithinOffset);
    const high = BigInt(this.isolation === READ_COMMITTED && BigInt(data.lastStableOffset) >= 0n ? data.lastStableOffset : data.highWatermark);
    const low = BigInt(data.lastStartOffset ?? '0') >= 0n ? BigInt(data.lastStartOffset ?? '0') : 0n;
    return { outOfRange: false, batch, high, low };
  }

  private learnRecordSize(messages: KjsMessage[]): void {
    if (messages.length < 10) return;
    let bytes = 0;
    for (const m of messages) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0) + 70;
    this.bytesPerRecord = Math.round(this.bytesPerRecord * 0.5 + (bytes / messages.length) * 0.5);
  }

  /** The partition's first offset and end (the last stable offset under read_committed). */
  private async ends(topic: string, partition: number): Promise<{ low: bigint; high: bigint }> {
    const at = async (timestamp: number) => {
      const res = await this.withLeader(topic, partition, (broker) =>
        broker.listOffsets({ isolationLevel: this.isolation, topics: [{ topic, partitions: [{ partition, timestamp }] }] }),
      );
      return BigInt(res.responses[0].partitions[0].offset);
    };
    return { low: await at(EARLIEST), high: await at(LATEST) };
  }

  /** Runs a request on the partition's leader; on a stale-leader error, looks the leader up again once. */
  private async withLeader(topic: string, partition: number, request: (broker: any) => Promise<any>): Promise<any> {
    for (let attempt = 0; ; attempt++) {
      const broker = await this.leaderOf(topic, partition, attempt > 0);
      try {
        return await request(broker);
      } catch (err: any) {
        const stale = STALE_LEADER.has(err?.type) || err?.name === 'KafkaJSConnectionError';
        if (!stale || attempt >= 1) throw err;
      }
    }
  }

  private async leaderOf(topic: string, partition: number, refresh: boolean): Promise<any> {
    const cluster = await this.connected();
    let leaders = refresh ? undefined : this.leaders.get(topic);
    if (leaders?.[partition] === undefined) {
      const metadata = await cluster.metadata({ topics: [topic] });
      const t = metadata.topicMetadata.find((x: any) => x.topic === topic);
      leaders = [];
      for (const p of t?.partitionMetadata ?? []) leaders[p.partitionId] = p.leader;
      this.leaders.set(topic, leaders);
    }
    const nodeId = leaders[partition];
    if (nodeId === undefined || nodeId < 0) {
      this.leaders.delete(topic);
      throw new TidewayError('RESOURCE_MISSING', `partition ${partition} of topic ${topic} has no leader (the topic or partition may not exist)`);
    }
    return cluster.findBroker({ nodeId });
  }

  private connected(): Promise<any> {
    if (this.cluster) return Promise.resolve(this.cluster);
    this.connecting ??= (async () => {
      const c = this.connection;
      const { createLogger, LEVELS } = kafkajsModule('loggers');
      const Cluster = kafkajsModule('cluster');
      const socketFactory = kafkajsModule('network/socketFactory');
      const cluster = new Cluster({
        logger: createLogger({ level: c.logLevel ?? LEVELS.INFO, logCreator: c.logCreator ?? kafkajsModule('loggers/console') }),
        socketFactory: socketFactory(),
        brokers: c.brokers,
        ssl: c.ssl,
        sasl: c.sasl,
        clientId: c.clientId,
        connectionTimeout: c.connectionTimeout,
        // A read is answered, or fails, within seconds: its caller retries (a Kinesis client does),
        // and a reader waiting minutes on an unreachable broker would only hold its request open.
        retry: READ_RETRY,
        requestTimeout: REQUEST_TIMEOUT_MS,
        offsets: new Map(),
        allowAutoTopicCreation: false,
        isolationLevel: this.isolation,
      });
      try {
        await cluster.connect();
      } catch (err) {
        await cluster.disconnect().catch(() => undefined); // the error above is the one that matters
        throw err;
      }
      this.cluster = cluster;
      return cluster;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private admit(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Reads in progress end with their fetch; reads waiting for their turn fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w();
    await Promise.allSettled([this.cluster?.disconnect(), this.fallbackReader?.close()]);
    this.cluster = undefined;
  }
}
