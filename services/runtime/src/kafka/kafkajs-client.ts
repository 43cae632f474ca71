/**
 * The Kafka interface implemented with kafkajs (KAFKA_CLIENT=kafkajs). This file is the only place
 * kafkajs is used, and it loads the library only when a client is built, so the default client
 * never loads it.
 */
import type { Consumer as KjsConsumer, Kafka, KafkaConfig, LogEntry, Producer as KjsProducer, SASLOptions, IHeaders, Message } from 'kafkajs';
import { retryWithBackoff, sleep, type BackoffPolicy } from '../backoff';
import type { DependencyHealth } from '../dependency-health';
import { canRetry, errorMessage, TidewayError } from '../errors';
import type { Logger } from '../logger';
import { connectionSecurity, type KafkaConnectionSettings } from './connection';
import { FetchPartitionReader, type FetchReaderConnection } from './fetch-partition-reader';
import { alreadyExistingTopics, topicsWithoutLeaders } from './topic-readiness';
import { fromHeaders, groupPartitions, offsetsByTopic } from './topic-grouping';
import type {
  Admin,
  Consumer,
  ConsumerOptions,
  DeliveryReport,
  IncomingMessage,
  KafkaClient,
  OutgoingMessage,
  PartitionReader,
  PartitionReaderOptions,
  Producer,
  ProducerOptions,
  ProducerTransaction,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
} from './types';

export type { KafkaConnectionSettings } from './connection';

function kafkajs(): typeof import('kafkajs') {
  return require('kafkajs') as typeof import('kafkajs');
}

/** kafkajs's log levels (its `logLevel` enum). */
const KafkaLogLevel = { ERROR: 1, WARN: 2, INFO: 4 } as const;

function toKafkaLog(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafka: extra.logger ?? 'kafkajs', broker: extra.broker, error: extra.error };
      if (level === KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

export function kafkaConfigFrom(s: KafkaConnectionSettings, logger: Logger): KafkaConfig {
  const security = connectionSecurity(s);
  const sasl = security.sasl as SASLOptions | undefined;
  const ssl: KafkaConfig['ssl'] = security.ca !== undefined ? { ca: [security.ca] } : security.tls;
  return {
    clientId: s.kafkaClientId,
    brokers: s.kafkaBrokers,
    ssl,
    sasl,
    connectionTimeout: s.kafkaConnectionTimeoutMs,
    // kafkajs backs off exponentially between these; the service layer retries beyond them.
    retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 8 },
    logLevel: KafkaLogLevel.INFO,
    logCreator: toKafkaLog(logger),
  };
}

function toHeaders(headers: Record<string, string | Buffer> | undefined): IHeaders | undefined {
  return headers;
}

/** The messages grouped by topic for kafkajs, and the same message objects in the order given. */
function groupByTopic(messages: OutgoingMessage[]): { topicMessages: Array<{ topic: string; messages: Message[] }>; inOrder: Message[] } {
  const byTopic = new Map<string, Message[]>();
  const inOrder: Message[] = [];
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (!list) byTopic.set(m.topic, (list = []));
    const msg: Message = {
      key: m.key,
      value: m.value,
      partition: m.partition,
      headers: toHeaders(m.headers),
      timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
    };
    list.push(msg);
    inOrder.push(msg);
  }
  return { topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })), inOrder };
}

/**
 * The partition kafkajs chose for each message object (it calls the partitioner with the object
 * itself, also for an explicit partition), so that a send can report every message's partition.
 */
type ChosenPartitions = WeakMap<Message, number>;

class KafkajsProducer implements Producer {
  private connected = false;
  constructor(
    private readonly p: KjsProducer,
    private readonly transactional: boolean,
    private readonly chosen: ChosenPartitions,
  ) {
    p.on(p.events.CONNECT, () => (this.connected = true));
    p.on(p.events.DISCONNECT, () => (this.connected = false));
  }
  async connect() {
    await this.p.connect();
    this.connected = true;
  }
  async disconnect() {
    await this.p.disconnect();
    this.connected = false;
  }
  isConnected() {
    return this.connected;
  }
  async send(messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return [];
    const { topicMessages, inOrder } = groupByTopic(messages);
    const res = await this.p.sendBatch({ topicMessages, acks: -1 });
    // kafkajs writes one send's messages for a partition as one record batch, in the order given:
    // the batch's base offset plus the message's place among them is its offset.
    const next = new Map(res.map((r) => [`${r.topicName}:${r.partition}`, BigInt(r.baseOffset ?? '-1')]));
    return inOrder.map((msg, i) => {
      const topic = messages[i].topic;
      const partition = this.chosen.get(msg) ?? msg.partition ?? -1;
      const key = `${topic}:${partition}`;
      const offset = next.get(key);
      if (offset === undefined || offset < 0n) return { topic, partition, offset: '-1' };
      next.set(key, offset + 1n);
      return { topic, partition, offset: offset.toString() };
    });
  }
  async transaction(): Promise<ProducerTransaction> {
    if (!this.transactional) throw new Error('producer was not created with a transactionalId');
    const t = await this.p.transaction();
    return {
      send: async (messages) => {
        if (messages.length > 0) await t.sendBatch({ topicMessages: groupByTopic(messages).topicMessages, acks: -1 });
      },
      sendOffsets: async (groupId, offsets) => {
        await t.sendOffsets({ consumerGroupId: groupId, topics: offsetsByTopic(offsets) });
      },
      commit: () => t.commit(),
      abort: () => t.abort(),
    };
  }
}

class KafkajsConsumer implements Consumer {
  private connected = false;
  private assignmentListeners: Array<(a: TopicPartition[]) => void> = [];
  private rebalanceListeners: Array<() => void> = [];
  private batchEndListeners: Array<(p: { topic: string; partition: number; next: string; highWatermark: string }) => void> = [];

  private topics: Array<string | RegExp> = [];
  private handler?: (batch: import('./types').MessageBatch) => Promise<void>;
  private stopped = false;
  private restarting = false;

  constructor(
    private readonly c: KjsConsumer,
    private readonly opts: ConsumerOptions,
    private readonly hooks: KafkaClientHooks,
  ) {
    c.on(c.events.CONNECT, () => (this.connected = true));
    c.on(c.events.DISCONNECT, () => (this.connected = false));
    c.on(c.events.CRASH, ({ payload }) => {
      this.connected = false;
      // kafkajs restarts by itself only after errors it deems retriable; the others stop the
      // consumer for good while the process lives on. Transient ones are restarted here.
      if (payload.restart || this.stopped) return;
      if (canRetry(payload.error)) void this.restart(payload.error);
      else this.hooks.onFatal?.(payload.error);
    });
    c.on(c.events.FETCH_START, () => (this.connected = true));
    c.on(c.events.GROUP_JOIN, (e) => {
      const assigned: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions) assigned.push({ topic, partition });
      }
      for (const l of this.assignmentListeners) l(assigned);
    });
    c.on(c.events.REBALANCING, () => {
      for (const l of this.rebalanceListeners) l();
    });
    c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
      const position = {
        topic: payload.topic,
        partition: payload.partition,
        next: (BigInt(payload.lastOffset) + 1n).toString(),
        highWatermark: payload.highWatermark,
      };
      for (const l of this.batchEndListeners) l(position);
    });
  }
  async connect() {
    await this.retry('consumer connect', () => this.c.connect());
    this.connected = true;
  }
  async disconnect() {
    this.stopped = true;
    await this.c.disconnect();
    this.connected = false;
  }
  isConnected() {
    return this.connected;
  }
  /** A topic just created may be unknown to the broker answering for a moment: retried. */
  async subscribe(topics: Array<string | RegExp>) {
    this.topics = topics;
    await this.retry('consumer subscribe', () => this.c.subscribe({ topics, fromBeginning: this.opts.fromBeginning ?? true }));
  }
  async run(eachBatch: (batch: import('./types').MessageBatch) => Promise<void>) {
    this.handler = eachBatch;
    await this.retry('consumer run', () => this.runOnce(eachBatch));
  }

  private retry(operation: string, fn: () => Promise<void>): Promise<void> {
    const stop = new AbortController();
    if (this.stopped) stop.abort();
    const health = this.hooks.health;
    const attempt = async () => {
      if (this.stopped) stop.abort();
      await fn();
    };
    if (health) return health.retry('kafka', operation, attempt, { signal: stop.signal, policy: CONSUMER_RETRY });
    return retryWithBackoff(attempt, { signal: stop.signal, policy: CONSUMER_RETRY, shouldRetry: (err) => canRetry(err) });
  }

  /** After a crash kafkajs does not recover from: connect, subscribe and run again, with backoff. */
  private async restart(err: unknown): Promise<void> {
    if (this.restarting || !this.handler) return;
    this.restarting = true;
    this.hooks.health?.down('kafka', 'consumer restart', err);
    try {
      await sleep(CONSUMER_RETRY.initialMs);
      await this.connect();
      await this.subscribe(this.topics);
      await this.run(this.handler);
      this.hooks.health?.ok('kafka', 'consumer restart');
    } catch (e) {
      if (this.stopped) return;
      this.hooks.health?.forget('kafka', 'consumer restart');
      this.hooks.onFatal?.(e);
    } finally {
      this.restarting = false;
    }
  }

  private async runOnce(eachBatch: (batch: import('./types').MessageBatch) => Promise<void>) {
    await this.c.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, heartbeat, isStale, isRunning, resolveOffset }) => {
        const messages: IncomingMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: fromHeaders(m.headers),
          timestamp: Number(m.timestamp),
        }));
        await eachBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages,
          highWatermark: batch.highWatermark,
          isStale,
          isRunning,
          heartbeat,
          resolveOffset,
        });
      },
    });
  }
  async commit(offsets: TopicPartitionOffset[]) {
    if (offsets.length > 0) await this.c.commitOffsets(offsets);
  }
  pause(partitions: TopicPartition[]) {
    if (partitions.length === 0) return;
    this.c.pause(groupPartitions(partitions));
  }
  resume(partitions: TopicPartition[]) {
    if (partitions.length === 0) return;
    this.c.resume(groupPartitions(partitions));
  }
  seek(p: TopicPartitionOffset) {
    this.c.seek(p);
  }
  onAssignment(listener: (assigned: TopicPartition[]) => void) {
    this.assignmentListeners.push(listener);
  }
  onRebalancing(listener: () => void) {
    this.rebalanceListeners.push(listener);
  }
  onBatchEnd(listener: (p: { topic: string; partition: number; next: string; highWatermark: string }) => void) {
    this.batchEndListeners.push(listener);
  }
}

type AbortedFilter = (input: { messages: unknown[]; abortedTransactions: Array<{ firstOffset: string; producerId: string }> }) => unknown[];

/**
 * kafkajs 2.2.4 leaks records of aborted transactions to read_committed consumers when a fetch
 * starts after the first offsets of two or more aborted transactions (it activates one per
 * record). patches/kafkajs+2.2.4.patch fixes it at install (postinstall, patch-package); an
 * unpatched install would silently break exactly-once, so a read_committed consumer refuses to start.
 */
let readCommittedFilterChecked = false;

export function assertReadCommittedFilterPatched(): void {
  if (readCommittedFilterChecked) return;
  const filter = require('kafkajs/src/consumer/filterAbortedMessages') as AbortedFilter;
  const record = { offset: '2', key: Buffer.from('k'), batchContext: { producerId: '8', inTransaction: true } };
  const kept = filter({
    messages: [record],
    abortedTransactions: [
      { firstOffset: '0', producerId: '7' },
      { firstOffset: '1', producerId: '8' },
    ],
  });
  if (kept.length !== 0) {
    throw new TidewayError(
      'DEPENDENCY_MISCONFIGURED',
      'kafkajs lacks the read_committed fix in patches/kafkajs+2.2.4.patch: run `npm install` (postinstall applies it) or `npx patch-package`',
    );
  }
  // The installed file does not change while the process runs: once is enough.
  readCommittedFilterChecked = true;
}

/** What the service runtime lends the client: dependency state, and where a fatal error goes. */
export interface KafkaClientHooks {
  health?: DependencyHealth;
  /** An error in the background (a consumer crash) that must stop the service. */
  onFatal?: (err: unknown) => void;
}

const CONSUMER_RETRY: BackoffPolicy = { initialMs: 300, maxMs: 10_000, multiplier: 2 };
/** Longest `ensureTopics` waits for created topics to have a leader on every partition. */
const TOPIC_READY_TIMEOUT_MS = 60_000;
const TOPIC_READY_POLICY: BackoffPolicy = { initialMs: 100, maxMs: 2_000, multiplier: 2 };

export class KafkajsClient implements KafkaClient {
  private readonly kafka: Kafka;

  constructor(
    private readonly config: KafkaConfig,
    private readonly hooks: KafkaClientHooks = {},
  ) {
    this.kafka = new (kafkajs().Kafka)(config);
  }

  producer(options: ProducerOptions = {}): Producer {
    const transactional = options.transactionalId !== undefined;
    const chosen: ChosenPartitions = new WeakMap();
    const p = this.kafka.producer({
      idempotent: options.idempotent ?? true,
      transactionalId: options.transactionalId,
      maxInFlightRequests: options.maxInFlightRequests ?? (transactional ? 1 : 5),
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
      retry: options.retry
        ? {
            initialRetryTime: options.retry.initialRetryTimeMs ?? 300,
            maxRetryTime: options.retry.maxRetryTimeMs ?? 30_000,
            retries: options.retry.retries ?? 8,
          }
        : undefined,
      allowAutoTopicCreation: true,
      // murmur2 on the key bytes, as the Java client: one key → one partition, whoever produced it.
      createPartitioner: () => {
        const partitioner = kafkajs().Partitioners.DefaultPartitioner();
        return (args) => {
          const partition = partitioner(args);
          chosen.set(args.message, partition);
          return partition;
        };
      },
    });
    return new KafkajsProducer(p, transactional, chosen);
  }

  consumer(options: ConsumerOptions): Consumer {
    if (options.readCommitted ?? true) assertReadCommittedFilterPatched();
    const c = this.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: !(options.readCommitted ?? true),
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      maxBytes: options.maxBytes ?? 10_485_760,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
      allowAutoTopicCreation: false,
      // Always come back after a crash: kafkajs gives up on errors it deems non-retriable,
      // which would leave a live process that consumes nothing.
      retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 8, restartOnFailure: async () => true },
    });
    return new KafkajsConsumer(c, options, this.hooks);
  }

  partitionReader(options: PartitionReaderOptions = {}): PartitionReader {
    return new FetchPartitionReader(this.config as FetchReaderConnection, options);
  }

  admin(): Admin {
    return kafkajsAdmin(this.kafka.admin());
  }
}

/** kafkajs's describe of a topic's configs; its `configSource` 1 is a topic override (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_OVERRIDE = 1;

export function kafkajsAdmin(a: ReturnType<Kafka['admin']>): Admin {
  const describe = async (topic: string, names?: string[]) => {
    const { resources } = await a.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs().ConfigResourceTypes.TOPIC, name: topic, ...(names ? { configNames: names } : {}) }],
    });
    const r = resources[0];
    if (r.errorCode !== 0)
      throw new TidewayError('RESOURCE_MISSING', `describing the configs of topic ${topic} failed: ${r.errorMessage ?? `error ${r.errorCode}`}`);
    return r.configEntries;
  };
  return {
    connect: () => a.connect(),
    disconnect: () => a.disconnect(),
    /**
     * Creates what is missing, tolerating others creating the same topics at the same moment
     * (TOPIC_ALREADY_EXISTS is success), then waits until every partition of every topic has a
     * leader: a topic just created is unknown to some requests for a moment (kafkajs's
     * waitForLeaders only waits out LEADER_NOT_AVAILABLE, not UNKNOWN_TOPIC_OR_PARTITION).
     */
    async ensureTopics(topics: TopicSpec[]) {
      const existing = new Set(await a.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      let created = missing.map((t) => t.topic);
      if (missing.length > 0) {
        try {
          await a.createTopics({
            waitForLeaders: false,
            topics: missing.map((t) => ({
              topic: t.topic,
              numPartitions: t.partitions ?? 1,
              replicationFactor: t.replicationFactor ?? -1,
              configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
            })),
          });
        } catch (err) {
          const byOthers = alreadyExistingTopics(err);
          if (byOthers === undefined) throw err;
          created = created.filter((t) => !byOthers.includes(t));
        }
      }
      await waitForLeaders(
        a,
        topics.map((t) => t.topic),
      );
      return created;
    },
    listTopics: () => a.listTopics(),
    async deleteTopics(topics: string[]) {
      if (topics.length > 0) await a.deleteTopics({ topics });
    },
    async partitionCount(topic: string) {
      const md = await a.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0]?.partitions.length ?? 0;
    },
    async endOffsets(topic: string) {
      const offs = await a.fetchTopicOffsets(topic);
      return offs.map((o) => ({ topic, partition: o.partition, offset: o.high }));
    },
    async startOffsets(topic: string) {
      const offs = await a.fetchTopicOffsets(topic);
      return offs.map((o) => ({ topic, partition: o.partition, offset: o.low }));
    },
    async committedOffsets(groupId: string, topic: string) {
      const res = await a.fetchOffsets({ groupId, topics: [topic] });
      return res.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })));
    },
    async offsetsForTimestamp(topic: string, timestampMs: number) {
      // kafkajs answers the high watermark where no record is that recent.
      const offs = await a.fetchTopicOffsetsByTimestamp(topic, timestampMs);
      return offs.map((o) => ({ topic, partition: o.partition, offset: o.offset }));
    },
    async topicConfigs(topic: string, names?: string[]) {
      const entries = await describe(topic, names);
      return Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
    },
    /**
     * kafkajs has only AlterConfigs, which replaces all of a topic's overrides: the current
     * overrides are read and sent again with the changed keys (two writers changing different
     * keys of one topic at the same moment could undo each other's change).
     */
    async alterTopicConfigs(topic: string, configs: Record<string, string>) {
      if (Object.keys(configs).length === 0) return;
      const current = (await describe(topic)).filter((e) => (e as { configSource?: number }).configSource === TOPIC_OVERRIDE && !e.isSensitive);
      const merged = new Map(current.map((e) => [e.configName, e.configValue]));
      for (const [name, value] of Object.entries(configs)) merged.set(name, value);
      await a.alterConfigs({
        validateOnly: false,
        resources: [{ type: kafkajs().ConfigResourceTypes.TOPIC, name: topic, configEntries: [...merged].map(([name, value]) => ({ name, value })) }],
      });
    },
  };
}

/** Polls the topics' metadata until every partition has a leader; "unknown topic" means not yet. */
async function waitForLeaders(a: ReturnType<Kafka['admin']>, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const deadline = AbortSignal.timeout(TOPIC_READY_TIMEOUT_MS);
  let pending: string[] = topics;
  try {
    await retryWithBackoff(
      async () => {
        const md = await a.fetchTopicMetadata({ topics });
        pending = topicsWithoutLeaders(topics, md.topics);
        if (pending.length > 0) throw new TidewayError('CONNECTION_FAILED', `no leader yet for every partition of ${pending.join(', ')}`);
      },
      { signal: deadline, policy: TOPIC_READY_POLICY, shouldRetry: (err) => canRetry(err) },
    );
  } catch (err) {
    if (!canRetry(err)) throw err;
    throw new TidewayError(
      'CONNECTION_FAILED',
      `topics ${pending.join(', ')} have no leader on every partition after ${TOPIC_READY_TIMEOUT_MS} ms: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}
