/**
 * The small Kafka interface every service codes against. Nothing outside `kafka/` imports
 * kafkajs, so the client library can be swapped for a maintained one without touching
 * service logic (kafkajs receives no upstream releases any more).
 *
 * Offsets are decimal strings (they are int64 on the wire). A committed offset is always the
 * offset of the NEXT record to read, as in Kafka itself.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** Offset of the next record to read. */
  offset: string;
}

export type HeaderValue = string | Buffer;

export interface OutgoingMessage {
  topic: string;
  /** Omit to let the key's hash choose (murmur2, the Java client's default partitioner). */
  partition?: number;
  key: string | Buffer | null;
  /** `null` is a tombstone. */
  value: string | Buffer | null;
  headers?: Record<string, HeaderValue>;
  /** Epoch millis; default now. */
  timestamp?: number;
}

/** One per message of a `send`, in the order the messages were given. */
export interface DeliveryReport {
  topic: string;
  /** The partition the message was written to (its own, or the one its key chose). */
  partition: number;
  /** The offset this message got: exact, also when other sends to the partition ran at the same time. */
  offset: string;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  /** Epoch millis (create or log-append time). */
  timestamp: number;
}

export interface MessageBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** Offset after the last record in the partition when the batch was fetched. */
  highWatermark: string;
  /** True when the partition was revoked while the batch was being handled: stop, do not commit. */
  isStale(): boolean;
  /** Keeps group membership alive during long handling. */
  heartbeat(): Promise<void>;
  /** Marks records up to and including `offset` as handled, so the next fetch starts after it. */
  resolveOffset(offset: string): void;
  /** False once the consumer is stopping; long loops should check it between records. */
  isRunning(): boolean;
}

export interface ProducerOptions {
  /** Idempotent producer (acks=all, no duplicates on retry). @default true */
  idempotent?: boolean;
  /** Enables transactions (requires idempotence). One id per producer instance that must fence zombies. */
  transactionalId?: string;
  /** @default 5 with idempotence, 1 for transactions */
  maxInFlightRequests?: number;
  /** Transaction timeout in ms. @default 60000 */
  transactionTimeoutMs?: number;
  /**
   * How long a record waits for others to share its batch (librdkafka's `linger.ms`; kafkajs sends
   * each send at once). Lower: less latency at low rates; at high rates records batch while earlier
   * requests are in flight either way. @default 5
   */
  lingerMs?: number;
  /**
   * Retries of the producer's requests, overriding the client-wide policy. Transactional
   * producers want a short first delay: the broker answers CONCURRENT_TRANSACTIONS to the next
   * transaction until the previous one's markers are written (a few ms), and the client-wide
   * 300 ms first retry would add that much to a transaction (the Java client retries after 20 ms).
   */
  retry?: { initialRetryTimeMs?: number; maxRetryTimeMs?: number; retries?: number };
}

export interface ProducerTransaction {
  send(messages: OutgoingMessage[]): Promise<void>;
  /** Commits consumer offsets atomically with the transaction's records. */
  sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface Producer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /**
   * Resolves once every message is acknowledged by all in-sync replicas (acks=all), with one
   * report per message, in the order given, each with the message's own partition and offset.
   */
  send(messages: OutgoingMessage[]): Promise<DeliveryReport[]>;
  /** Only for a producer created with `transactionalId`. */
  transaction(): Promise<ProducerTransaction>;
  isConnected(): boolean;
}

export interface ConsumerOptions {
  groupId: string;
  /** Where a group with no committed offset starts. @default true (earliest) */
  fromBeginning?: boolean;
  /** Only see committed transactional records. @default true */
  readCommitted?: boolean;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
  /** Upper bound of bytes fetched per partition per request (bounds memory). @default 1 MiB */
  maxBytesPerPartition?: number;
  /** Upper bound of bytes per fetch response. @default 10 MiB */
  maxBytes?: number;
  /** Longest a fetch waits for data. @default 500 */
  maxWaitTimeMs?: number;
  /** How many partitions' batches are handled at once. @default 1 */
  partitionsConsumedConcurrently?: number;
}

export interface Consumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(topics: Array<string | RegExp>): Promise<void>;
  /**
   * Starts the fetch loop. Offsets are never committed automatically: call `commit` once the
   * records are safe downstream. If `eachBatch` throws, the batch is fetched again after backoff.
   */
  run(eachBatch: (batch: MessageBatch) => Promise<void>): Promise<void>;
  /** Commits offsets for this consumer's group (next offset to read). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Moves the fetch position; only valid for assigned partitions while running. */
  seek(position: TopicPartitionOffset): void;
  /** Called with the full new assignment after every rebalance. */
  onAssignment(listener: (assigned: TopicPartition[]) => void): void;
  /** Called when a rebalance starts (partitions may be revoked). */
  onRebalancing(listener: () => void): void;
  /**
   * Called after every fetched batch of a partition, including batches that held only transaction
   * markers or aborted records (those never reach `run`): `next` is the offset after the batch,
   * `highWatermark` the partition's end. `next === highWatermark` means nothing is left to read.
   */
  onBatchEnd(listener: (position: { topic: string; partition: number; next: string; highWatermark: string }) => void): void;
  isConnected(): boolean;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  replicationFactor?: number;
  /** e.g. { 'cleanup.policy': 'compact' } */
  configs?: Record<string, string>;
}

export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Creates the topics that do not exist yet; returns the names it created. */
  ensureTopics(topics: TopicSpec[]): Promise<string[]>;
  listTopics(): Promise<string[]>;
  deleteTopics(topics: string[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** High watermark (next offset to be written) per partition. */
  endOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** Earliest available offset per partition. */
  startOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** Offsets committed by a group for a topic (`-1` where none). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /**
   * Per partition, the earliest offset whose record timestamp is at or after `timestampMs`
   * (epoch millis); the high watermark where no record is that recent.
   */
  offsetsForTimestamp(topic: string, timestampMs: number): Promise<TopicPartitionOffset[]>;
  /**
   * The topic's effective configuration (topic overrides and the broker defaults in force), e.g.
   * `retention.ms`; only the given names when `names` is passed (a name the broker does not know is absent).
   */
  topicConfigs(topic: string, names?: string[]): Promise<Record<string, string>>;
  /**
   * Sets the given topic configs, leaving every other override of the topic as it is. The broker
   * validates values (an unknown name or a bad value is refused and nothing changes).
   */
  alterTopicConfigs(topic: string, configs: Record<string, string>): Promise<void>;
}

export interface PartitionReaderOptions {
  /** Only see committed transactional records; the end is then the last stable offset. @default true */
  readCommitted?: boolean;
  /** How many reads run at once (each on a connection of its own); further reads wait their turn. @default 4 */
  concurrency?: number;
  /** Upper bound of bytes one fetch returns per partition. @default 10 MiB */
  fetchMaxBytesPerPartition?: number;
  /** Upper bound of records fetched ahead of reads, per concurrent read, in bytes (memory: `concurrency` times this). @default 32 MiB */
  prefetchMaxBytes?: number;
}

export interface PartitionRead {
  topic: string;
  partition: number;
  /** Where to start. Below the log start, reading starts at the log start. */
  offset: string;
  /** At most this many records. */
  maxRecords: number;
  /**
   * At most this many bytes of keys and values, except that a read returns at least one record
   * when there is one (a single record larger than this is returned alone). @default no bound
   */
  maxBytes?: number;
  /** Longest wait for a first record when `offset` is at the end of the partition. @default 500 */
  maxWaitMs?: number;
}

export interface PartitionReadResult {
  /** Consecutive records of the partition (gaps only where transaction markers or aborted records are). */
  messages: IncomingMessage[];
  /** Offset to read next: after the last record returned, or past what was skipped (markers, aborted records). */
  nextOffset: string;
  /** The partition's end (the last stable offset under read_committed) as last seen by this read. */
  highWatermark: string;
  /** The partition's first offset as last seen, when known. */
  logStartOffset?: string;
}

/**
 * Reads a partition at an exact offset without a consumer group: no group is joined and no offset
 * is committed. Safe to call concurrently for any partitions of any topics.
 */
export interface PartitionReader {
  /**
   * Records from `offset` on. An offset above the high watermark answers no records at once;
   * at the high watermark, the read waits up to `maxWaitMs` for new ones.
   */
  read(request: PartitionRead): Promise<PartitionReadResult>;
  /** Ends pending reads with an error and closes the connections. */
  close(): Promise<void>;
}

export interface KafkaClient {
  producer(options?: ProducerOptions): Producer;
  consumer(options: ConsumerOptions): Consumer;
  admin(): Admin;
  /** Groupless reads at exact offsets, with no consumer group. */
  partitionReader(options?: PartitionReaderOptions): PartitionReader;
}
