/**
 * The Kafka interface over @confluentinc/kafka-javascript (librdkafka, its KafkaJS-compatible API)
 * for every role: producer, transactions, consumer and admin. This file is the only place that
 * imports it. Why this library, and what its API asks of us: docs/benchmarks.md, "Kafka client on Node 24".
 *
 * librdkafka's own behaviour shapes a few things here:
 * - offsets sent in a transaction need the consumer of that group (its group metadata), so the
 *   client keeps the consumers it made per group id;
 * - pausing a partition while its batch is handled would refetch that batch after resume: a batch
 *   the handler finished is resolved here whatever pause says (kafkajs's meaning);
 * - a fetch holding only transaction markers delivers no batch: the consumer position is compared
 *   with the end of the partition after each batch and on a timer (`onBatchEnd`).
 */
import { backoffDelayMs, retryWithBackoff, sleep, type BackoffPolicy } from '../backoff';
import { canRetry, errorMessage, TidewayError } from '../errors';
import type { Logger } from '../logger';
import { connectionSecurity, type KafkaConnectionSettings } from './connection';
import { ConfluentPartitionReader } from './confluent-partition-reader';
import { FetchPartitionReader, type FetchReaderConnection } from './fetch-partition-reader';
import { kafkaConfigFrom, kafkajsAdmin, type KafkaClientHooks } from './kafkajs-client';
import { topicsWithoutLeaders } from './topic-readiness';
import { fromHeaders, groupPartitions, offsetsByTopic, type RecordHeaders } from './topic-grouping';
import type {
  Admin,
  Consumer,
  ConsumerOptions,
  DeliveryReport,
  HeaderValue,
  IncomingMessage,
  KafkaClient,
  MessageBatch,
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

/*
 * The library is an optional dependency (a native addon, built from source where no prebuilt binary
 * can be fetched), so building Tideway must not need it: it is loaded here, when KAFKA_CLIENT=confluent
 * loads this file, and its API is typed loosely by what this file uses.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
const { KafkaJS } = require('@confluentinc/kafka-javascript') as { KafkaJS: any };
type CkProducer = any;
type CkConsumer = any;
type CkAdmin = any;
type CkKafka = any;
type CkEachBatchPayload = any;
/** The library's producer under the KafkaJS one. */
interface CkRdProducer {
  produce(
    topic: string,
    partition: number,
    value: Buffer | null,
    key: Buffer | null,
    timestamp: number,
    opaque: unknown,
    headers: Array<Record<string, HeaderValue>> | null,
  ): void;
}
interface CkMessage {
  key?: Buffer | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: CkHeaders;
  timestamp?: string;
}
type CkHeaders = RecordHeaders;

const { ErrorCodes } = KafkaJS;

/**
 * Connecting a client waits for a metadata response on a native worker thread, 30 s by default, and
 * Node's exit waits for that thread: a service stopped while no broker answers would take that long
 * to exit. Connects that pass no options get a shorter bound; a failed connect is retried anyway.
 */
const CONNECT_METADATA_TIMEOUT_MS = 5_000;
const RdKafkaClient = require('@confluentinc/kafka-javascript/lib/client') as { prototype: { connect(o: unknown, cb: unknown): unknown } };
const librdkafkaConnect = RdKafkaClient.prototype.connect;
RdKafkaClient.prototype.connect = function connect(options: unknown, cb: unknown) {
  return librdkafkaConnect.call(this, options ?? { timeout: CONNECT_METADATA_TIMEOUT_MS }, cb);
};

/** The library's logger interface, onto ours (its info is our debug, as for kafkajs). */
function loggerFor(logger: Logger) {
  const fields = (extra: unknown) => ({ kafka: 'librdkafka', ...(extra && typeof extra === 'object' ? (extra as object) : {}) });
  const l = {
    info: (message: string, extra?: unknown) => logger.debug(fields(extra), message),
    error: (message: string, extra?: unknown) => logger.error(fields(extra), message),
    warn: (message: string, extra?: unknown) => logger.warn(fields(extra), message),
    debug: (message: string, extra?: unknown) => logger.trace(fields(extra), message),
    namespace: () => l,
    setLogLevel: () => undefined,
  };
  return l;
}

const partitionKey = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;

function topicMessages(messages: OutgoingMessage[]) {
  const byTopic = new Map<string, CkMessage[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (!list) byTopic.set(m.topic, (list = []));
    // A string key goes to librdkafka as a C string, cut at the first NUL: bytes keep it whole.
    const msg: CkMessage = { key: typeof m.key === 'string' ? Buffer.from(m.key) : m.key, value: m.value };
    // The library reads an own `partition` property even when undefined.
    if (m.partition !== undefined) msg.partition = m.partition;
    if (m.headers) msg.headers = m.headers;
    if (m.timestamp !== undefined) msg.timestamp = String(m.timestamp);
    list.push(msg);
  }
  return [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
}

/** The node-rdkafka consumer under the KafkaJS one (null before connect). */
function internalClient(c: CkConsumer): unknown {
  return (c as unknown as { _getInternalClient(): unknown })._getInternalClient();
}

/** Consumers by group id, for offsets committed in a transaction. */
class GroupConsumers {
  private readonly byGroup = new Map<string, CkConsumer>();
  set(groupId: string, c: CkConsumer) {
    this.byGroup.set(groupId, c);
  }
  delete(groupId: string, c: CkConsumer) {
    if (this.byGroup.get(groupId) === c) this.byGroup.delete(groupId);
  }
  get(groupId: string): CkConsumer {
    const c = this.byGroup.get(groupId);
    if (!c) {
      throw new TidewayError(
        'DEPENDENCY_MISCONFIGURED',
        `offsets of group ${groupId} cannot be sent in a transaction: this Kafka client has no connected consumer of that group (librdkafka needs the consumer's group metadata)`,
      );
    }
    return c;
  }
}

class ConfluentProducer implements Producer {
  private connected = false;
  constructor(
    private readonly p: CkProducer,
    private readonly transactional: boolean,
    private readonly groups: GroupConsumers,
  ) {}
  async connect() {
    // A transactional producer initialises its id here, fencing a previous owner.
    await this.p.connect();
    this.connected = true;
  }
  async disconnect() {
    this.connected = false;
    await this.p.disconnect();
  }
  isConnected() {
    return this.connected;
  }
  async send(messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return [];
    // The library's send reports only the lowest offset per partition, and a send of one message at a
    // time costs ~3 µs CPU more per record: messages go to librdkafka here as the library's send hands
    // them over (its delivery callback settles the `{ resolve, reject }` given as opaque), one report each.
    const internal = (this.p as { _getInternalClient(): CkRdProducer | null })._getInternalClient();
    if (!this.connected || !internal) throw new TidewayError('CONNECTION_FAILED', 'producer is not connected');
    const reports = messages.map(
      (m) =>
        new Promise<{ topicName: string; partition: number; baseOffset: number | null }>((resolve, reject) => {
          try {
            const key = typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
            const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
            const headers = m.headers ? Object.entries(m.headers).map(([k, v]) => ({ [k]: v })) : null;
            internal.produce(m.topic, m.partition ?? -1, value, key, m.timestamp ?? 0, { resolve, reject }, headers);
          } catch (err) {
            reject(err);
          }
        }),
    );
    const done = await Promise.all(reports);
    return done.map((r, i) => ({ topic: messages[i].topic, partition: r.partition, offset: r.baseOffset === null ? '-1' : String(r.baseOffset) }));
  }
  async transaction(): Promise<ProducerTransaction> {
    if (!this.transactional) throw new Error('producer was not created with a transactionalId');
    const t = await this.p.transaction();
    return {
      send: async (messages) => {
        if (messages.length > 0) await t.sendBatch({ topicMessages: topicMessages(messages) });
      },
      sendOffsets: async (groupId, offsets) => {
        if (offsets.length === 0) return;
        await t.sendOffsets({ consumer: this.groups.get(groupId), topics: offsetsByTopic(offsets) });
      },
      commit: () => t.commit(),
      abort: () => t.abort(),
    };
  }
}

interface InFlight {
  seeked: boolean;
  paused: boolean;
  revoked: boolean;
}

type BatchEndListener = (p: { topic: string; partition: number; next: string; highWatermark: string }) => void;

/** How often partitions without batches are checked for having reached their end (markers only). */
const POSITION_CHECK_MS = 1_000;
/** How long a commit may take to show at the group coordinator before it counts as refused, and the wait between reads. */
const COMMIT_CONFIRM_TIMEOUT_MS = 10_000;
const COMMIT_CONFIRM_WAIT_MS = 100;
/** How often a consumer's metadata request checks that a broker answers. */
const BROKER_PROBE_INTERVAL_MS = 3_000;
const BROKER_PROBE_TIMEOUT_MS = 5_000;
/** Bound on reading the committed offsets of a new assignment before leaving it to the library. */
const STARTING_OFFSETS_TIMEOUT_MS = 10_000;
/** librdkafka's logical offsets: the partition's first and next offset. */
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

/** A committed offset as the library's `committed()` reports it: none is "-1001", and 0 is null. */
interface CommittedOffset extends TopicPartition {
  offset: string | null;
}
const committedOffset = (c: CommittedOffset): string => c.offset ?? '0';

interface StartingOffset extends TopicPartition {
  offset: number;
}
/** How long librdkafka waits before fetching again for a partition whose prefetch queue was full. */
const FETCH_QUEUE_BACKOFF_MS = 10;
const CONSUMER_RETRY: BackoffPolicy = { initialMs: 300, maxMs: 10_000, multiplier: 2 };
/** Backoff before a batch whose handler failed is fetched again (kafkajs restarts the consumer after backoff). */
const HANDLER_RETRY: BackoffPolicy = { initialMs: 300, maxMs: 10_000, multiplier: 2 };

class ConfluentConsumer implements Consumer {
  private c: CkConsumer;
  private connected = false;
  private stopped = false;
  private assignmentListeners: Array<(a: TopicPartition[]) => void> = [];
  private rebalanceListeners: Array<() => void> = [];
  private batchEndListeners: BatchEndListener[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private readonly paused = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** Partitions that delivered a batch since the last position check. */
  private readonly delivered = new Set<string>();
  private assigned: TopicPartition[] = [];
  private positionTimer?: NodeJS.Timeout;
  private brokerWatch?: NodeJS.Timeout;
  private probing = false;
  private brokersUnreachable = false;

  constructor(
    private readonly make: (rebalance: (err: { code: number }, assignment: TopicPartition[]) => Promise<StartingOffset[] | undefined>) => CkConsumer,
    private readonly opts: ConsumerOptions,
    private readonly hooks: KafkaClientHooks,
    private readonly groups: GroupConsumers,
  ) {
    this.c = make((err, assignment) => this.onRebalance(err, assignment));
  }

  /**
   * librdkafka starts a partition assigned without an offset only once it has read the committed
   * offset, and refuses (drops) a seek made before that. So the starting offsets are read here and
   * the assignment is applied with them: the partition starts fetching at once, and a seek made by
   * an assignment listener or right after it takes effect.
   */
  private async onRebalance(err: { code: number }, assignment: TopicPartition[]): Promise<StartingOffset[] | undefined> {
    if (err.code === ErrorCodes.ERR__ASSIGN_PARTITIONS) {
      const list = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
      const starts = await this.startingOffsets(list);
      // After the library has applied the assignment (it does so once this callback returns).
      setImmediate(() => {
        if (this.stopped) return;
        this.assigned = list;
        for (const l of this.assignmentListeners) l(list);
      });
      return starts;
    }
    for (const a of assignment) {
      const f = this.inFlight.get(partitionKey(a));
      if (f) f.revoked = true;
    }
    this.assigned = [];
    for (const l of this.rebalanceListeners) l();
    return undefined;
  }

  /** The group's committed offsets, or where a partition without one starts; undefined leaves it to the library. */
  private async startingOffsets(list: TopicPartition[]): Promise<StartingOffset[] | undefined> {
    if (list.length === 0) return undefined;
    try {
      const committed: CommittedOffset[] = await this.c.committed(list, STARTING_OFFSETS_TIMEOUT_MS);
      const byKey = new Map(committed.map((c) => [partitionKey(c), Number(committedOffset(c))]));
      const reset = (this.opts.fromBeginning ?? true) ? OFFSET_BEGINNING : OFFSET_END;
      return list.map((tp) => {
        const offset = byKey.get(partitionKey(tp));
        return { ...tp, offset: offset !== undefined && Number.isSafeInteger(offset) && offset >= 0 ? offset : reset };
      });
    } catch {
      // The library reads them itself; a seek in the next moments may then be dropped, as above.
      return undefined;
    }
  }

  async connect() {
    await this.retry('consumer connect', async () => {
      try {
        await this.c.connect();
      } catch (err) {
        // A consumer object connects once: the next attempt needs a new one.
        this.c = this.make((e, a) => this.onRebalance(e, a));
        throw err;
      }
    });
    this.connected = true;
    this.groups.set(this.opts.groupId, this.c);
    // librdkafka recovers from transient errors itself; a fatal one leaves a consumer that consumes nothing.
    const internal = internalClient(this.c) as { on(event: 'event.error', fn: (err: { isFatal?: boolean }) => void): void } | null;
    internal?.on('event.error', (err) => {
      if (this.stopped) return;
      if (err.isFatal) this.hooks.onFatal?.(err);
      else if ((err as { code?: number }).code === ErrorCodes.ERR__ALL_BROKERS_DOWN) this.brokersDown(err);
    });
    this.watchBrokers();
  }

  /**
   * librdkafka reconnects by itself and reports neither a lost broker nor its return to a consumer
   * reliably, so a metadata request asks a broker every few seconds: Kafka is reported down from
   * the first that fails until one succeeds.
   */
  private watchBrokers() {
    this.brokerWatch = setInterval(() => {
      if (this.probing || this.stopped) return;
      this.probing = true;
      this.metadata(false, BROKER_PROBE_TIMEOUT_MS)
        .then(
          () => {
            if (this.brokersUnreachable && !this.stopped) this.hooks.health?.ok('kafka', 'consumer connection');
            this.brokersUnreachable = false;
          },
          (err) => this.brokersDown(err),
        )
        .finally(() => (this.probing = false));
    }, BROKER_PROBE_INTERVAL_MS);
    this.brokerWatch.unref();
  }

  private brokersDown(err: unknown) {
    if (this.stopped) return;
    this.brokersUnreachable = true;
    this.hooks.health?.down('kafka', 'consumer connection', err);
  }

  /** Partition counts by topic, from one metadata request to any broker. */
  private metadata(allTopics: boolean, timeoutMs: number): Promise<Map<string, number>> {
    const internal = internalClient(this.c) as {
      getMetadata(
        o: { allTopics: boolean; timeout: number },
        cb: (err: unknown, md?: { topics: Array<{ name: string; partitions: unknown[] }> }) => void,
      ): void;
    } | null;
    if (!internal) return Promise.reject(new Error('consumer not connected'));
    return new Promise((resolve, reject) =>
      internal.getMetadata({ allTopics, timeout: timeoutMs }, (err, md) => {
        if (err || !md) reject(err ?? new Error('no metadata'));
        else resolve(new Map(md.topics.map((t) => [t.name, t.partitions.length])));
      }),
    );
  }

  async disconnect() {
    this.stopped = true;
    clearInterval(this.positionTimer);
    clearInterval(this.brokerWatch);
    this.hooks.health?.forget('kafka', 'consumer connection');
    this.groups.delete(this.opts.groupId, this.c);
    this.connected = false;
    await this.c.disconnect();
  }

  isConnected() {
    return this.connected;
  }

  /**
   * Named topics must exist first: librdkafka would wait for its next periodic metadata refresh
   * (minutes) to notice one created later. Patterns match whatever exists at each refresh.
   */
  async subscribe(topics: Array<string | RegExp>) {
    const named = topics.filter((t): t is string => typeof t === 'string');
    await this.retry('consumer subscribe', async () => {
      if (named.length > 0) {
        const partitions = await this.metadata(true, CONNECT_METADATA_TIMEOUT_MS);
        const missing = named.filter((t) => !(partitions.get(t) ?? 0));
        if (missing.length > 0) throw new TidewayError('RESOURCE_MISSING', `topic not found yet: ${missing.join(', ')}`);
      }
      await this.c.subscribe({ topics, replace: true });
    });
  }

  private retry(operation: string, fn: () => Promise<void>): Promise<void> {
    const stop = new AbortController();
    if (this.stopped) stop.abort();
    const attempt = async () => {
      if (this.stopped) stop.abort();
      await fn();
    };
    const health = this.hooks.health;
    if (health) return health.retry('kafka', operation, attempt, { signal: stop.signal, policy: CONSUMER_RETRY });
    return retryWithBackoff(attempt, { signal: stop.signal, policy: CONSUMER_RETRY, shouldRetry: (err) => canRetry(err) });
  }

  async run(eachBatch: (batch: MessageBatch) => Promise<void>) {
    await this.c.run({
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload: CkEachBatchPayload) => this.handle(payload, eachBatch),
    });
    this.positionTimer = setInterval(() => this.checkPositions(), Math.max(POSITION_CHECK_MS, this.opts.maxWaitTimeMs ?? 500));
    this.positionTimer.unref();
  }

  private async handle(payload: CkEachBatchPayload, eachBatch: (batch: MessageBatch) => Promise<void>) {
    const { batch } = payload;
    const key = partitionKey(batch);
    const state: InFlight = { seeked: false, paused: false, revoked: false };
    this.inFlight.set(key, state);
    this.delivered.add(key);
    const messages: IncomingMessage[] = batch.messages.map((m: any) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      headers: fromHeaders(m.headers),
      timestamp: Number(m.timestamp),
    }));
    const last = batch.messages[batch.messages.length - 1].offset;
    try {
      await eachBatch({
        topic: batch.topic,
        partition: batch.partition,
        messages,
        highWatermark: batch.highWatermark,
        isStale: () => state.seeked || state.revoked,
        isRunning: () => payload.isRunning() && !this.stopped,
        heartbeat: async () => undefined,
        resolveOffset: (offset) => payload.resolveOffset(offset),
      });
      this.failures.delete(key);
    } catch (err) {
      // The library fetches the batch again at once; kafkajs restarted after a backoff.
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      if (!this.stopped) await sleep(backoffDelayMs(n, HANDLER_RETRY));
      throw err;
    } finally {
      this.inFlight.delete(key);
    }
    // Paused during its own handling: the library would refetch the batch; it was handled.
    if (state.paused && !state.seeked && !state.revoked) payload.resolveOffset(last);
    if (!state.seeked && !state.revoked) this.emitBatchEnd(batch.topic, batch.partition, (BigInt(last) + 1n).toString(), batch.highWatermark);
  }

  private emitBatchEnd(topic: string, partition: number, next: string, highWatermark: string) {
    if (BigInt(highWatermark) < 0n) return;
    const position = { topic, partition, next, highWatermark };
    for (const l of this.batchEndListeners) l(position);
  }

  /**
   * Partitions that delivered nothing since the last check: their position against their end.
   * A fetch of only transaction markers moves the position without delivering a batch.
   */
  private checkPositions() {
    if (this.stopped || this.batchEndListeners.length === 0) return;
    const internal = internalClient(this.c) as {
      position(tps: TopicPartition[]): Array<{ topic: string; partition: number; offset?: number }>;
      getWatermarkOffsets(topic: string, partition: number): { highOffset: number; lowOffset: number };
    } | null;
    if (!internal) return;
    const quiet = this.assigned.filter(
      (tp) => !this.delivered.has(partitionKey(tp)) && !this.inFlight.has(partitionKey(tp)) && !this.paused.has(partitionKey(tp)),
    );
    this.delivered.clear();
    if (quiet.length === 0) return;
    try {
      for (const p of internal.position(quiet)) {
        if (p.offset === undefined || p.offset < 0) continue;
        const { highOffset } = internal.getWatermarkOffsets(p.topic, p.partition);
        if (!Number.isInteger(highOffset) || highOffset < 0) continue;
        this.emitBatchEnd(p.topic, p.partition, String(p.offset), String(highOffset));
      }
    } catch {
      // Not assigned any more (a rebalance in between): the next check sees the new assignment.
    }
  }

  /**
   * Resolves once the group coordinator has the offsets. The library only queues a commit
   * (librdkafka's commitAsync), so they are read back from the coordinator — which answers one
   * connection's requests in order — until they show; a commit the group refused (a rebalance in
   * between) never shows and fails here, to be retried by the caller.
   */
  async commit(offsets: TopicPartitionOffset[]) {
    if (offsets.length === 0) return;
    const wanted = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    await this.c.commitOffsets(wanted);
    const partitions = wanted.map(({ topic, partition }) => ({ topic, partition }));
    const deadline = Date.now() + COMMIT_CONFIRM_TIMEOUT_MS;
    for (;;) {
      const stored: CommittedOffset[] = await this.c.committed(partitions, ADMIN_TIMEOUT_MS);
      const at = new Map(stored.map((c) => [partitionKey(c), committedOffset(c)]));
      const missing = wanted.filter((w) => {
        const offset = at.get(partitionKey(w));
        return offset === undefined || !/^\d+$/.test(offset) || BigInt(offset) < BigInt(w.offset);
      });
      if (missing.length === 0) {
        return;
      }
      if (Date.now() >= deadline) {
        throw new TidewayError(
          'DELIVERY_FAILED',
          `offset commit not confirmed by the group coordinator: ${missing.map((m) => `${partitionKey(m)}@${m.offset}`).join(', ')}`,
        );
      }
      await sleep(COMMIT_CONFIRM_WAIT_MS);
    }
  }

  pause(partitions: TopicPartition[]) {
    if (partitions.length === 0) return;
    for (const tp of partitions) {
      this.paused.add(partitionKey(tp));
      const f = this.inFlight.get(partitionKey(tp));
      if (f) f.paused = true;
    }
    this.c.pause(groupPartitions(partitions));
  }

  resume(partitions: TopicPartition[]) {
    if (partitions.length === 0) return;
    for (const tp of partitions) this.paused.delete(partitionKey(tp));
    this.c.resume(groupPartitions(partitions));
  }

  seek(p: TopicPartitionOffset) {
    const f = this.inFlight.get(partitionKey(p));
    if (f) f.seeked = true;
    this.c.seek({ topic: p.topic, partition: p.partition, offset: p.offset });
  }

  onAssignment(listener: (assigned: TopicPartition[]) => void) {
    this.assignmentListeners.push(listener);
  }
  onRebalancing(listener: () => void) {
    this.rebalanceListeners.push(listener);
  }
  onBatchEnd(listener: BatchEndListener) {
    this.batchEndListeners.push(listener);
  }
}

/** Longest `ensureTopics` waits for created topics to have a leader on every partition. */
const TOPIC_READY_TIMEOUT_MS = 60_000;
const TOPIC_READY_POLICY: BackoffPolicy = { initialMs: 100, maxMs: 2_000, multiplier: 2 };
/**
 * Admin requests' timeout (the library's default is 5 s). A request runs on a native worker thread
 * that Node's exit waits for, so this also bounds how long a stop takes while no broker answers;
 * callers retry a request that timed out.
 */
const ADMIN_TIMEOUT_MS = 10_000;

class ConfluentAdmin implements Admin {
  /** Topic configs go through kafkajs: this library's admin has no DescribeConfigs/AlterConfigs. */
  private configs?: { admin: Admin; connected: Promise<void> };
  constructor(
    private readonly a: CkAdmin,
    private readonly configsAdmin: () => Admin,
  ) {}
  connect() {
    return this.a.connect();
  }
  async disconnect() {
    const c = this.configs;
    this.configs = undefined;
    if (c) await c.connected.then(() => c.admin.disconnect()).catch(() => undefined); // a failed connect left nothing to close
    await this.a.disconnect();
  }
  private configAdmin(): Promise<Admin> {
    if (!this.configs) {
      const admin = this.configsAdmin();
      const connected = admin.connect();
      const configs = { admin, connected };
      this.configs = configs;
      // A failed connect is tried again by the next call.
      connected.catch(() => {
        if (this.configs === configs) this.configs = undefined;
      });
    }
    const { admin, connected } = this.configs;
    return connected.then(() => admin);
  }
  async topicConfigs(topic: string, names?: string[]) {
    return (await this.configAdmin()).topicConfigs(topic, names);
  }
  async alterTopicConfigs(topic: string, configs: Record<string, string>) {
    await (await this.configAdmin()).alterTopicConfigs(topic, configs);
  }
  async offsetsForTimestamp(topic: string, timestampMs: number) {
    // The library answers the high watermark where no record is that recent.
    const offs = await this.a.fetchTopicOffsetsByTimestamp(topic, timestampMs, { timeout: ADMIN_TIMEOUT_MS });
    return offs.map((o: any) => ({ topic, partition: o.partition, offset: String(o.offset) }));
  }
  /**
   * Creates what is missing (TOPIC_ALREADY_EXISTS — someone else created it at the same moment —
   * is success), then waits until every partition of every topic has a leader.
   */
  async ensureTopics(topics: TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.a.listTopics({ timeout: ADMIN_TIMEOUT_MS }));
    const missing = topics.filter((t) => !existing.has(t.topic));
    const created: string[] = [];
    await Promise.all(
      missing.map(async (t) => {
        // One request per topic: the library answers `false` (not an error) for an existing one.
        const made = await this.a.createTopics({
          timeout: ADMIN_TIMEOUT_MS,
          topics: [
            {
              topic: t.topic,
              numPartitions: t.partitions ?? 1,
              replicationFactor: t.replicationFactor ?? -1,
              configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        if (made) created.push(t.topic);
      }),
    );
    await this.waitForLeaders(topics.map((t) => t.topic));
    return missing.map((t) => t.topic).filter((t) => created.includes(t));
  }

  /** Polls the topics' metadata until every partition has a leader; "unknown topic" means not yet. */
  private async waitForLeaders(topics: string[]): Promise<void> {
    if (topics.length === 0) return;
    const deadline = AbortSignal.timeout(TOPIC_READY_TIMEOUT_MS);
    let pending: string[] = topics;
    try {
      await retryWithBackoff(
        async () => {
          const md = await this.a.fetchTopicMetadata({ topics, timeout: ADMIN_TIMEOUT_MS } as never);
          pending = topicsWithoutLeaders(topics, md as unknown as Array<{ name: string; partitions: Array<{ partitionId: number; leader: number }> }>);
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

  listTopics() {
    return this.a.listTopics({ timeout: ADMIN_TIMEOUT_MS });
  }
  async deleteTopics(topics: string[]) {
    if (topics.length > 0) await this.a.deleteTopics({ topics, timeout: ADMIN_TIMEOUT_MS });
  }
  async partitionCount(topic: string) {
    try {
      const md = await this.a.fetchTopicMetadata({ topics: [topic], timeout: ADMIN_TIMEOUT_MS } as never);
      return (md as unknown as Array<{ partitions: unknown[] }>)[0]?.partitions.length ?? 0;
    } catch (err) {
      // kafkajs's answer for a missing topic: no partitions.
      if ((err as { code?: unknown }).code === ErrorCodes.ERR_UNKNOWN_TOPIC_OR_PART) return 0;
      throw err;
    }
  }
  async endOffsets(topic: string) {
    const offs = await this.a.fetchTopicOffsets(topic, { timeout: ADMIN_TIMEOUT_MS, isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED });
    return offs.map((o: any) => ({ topic, partition: o.partition, offset: String(o.high) }));
  }
  async startOffsets(topic: string) {
    const offs = await this.a.fetchTopicOffsets(topic, { timeout: ADMIN_TIMEOUT_MS, isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED });
    return offs.map((o: any) => ({ topic, partition: o.partition, offset: String(o.low) }));
  }
  async committedOffsets(groupId: string, topic: string) {
    const res = await this.a.fetchOffsets({ groupId, topics: [topic], timeout: ADMIN_TIMEOUT_MS });
    return res.flatMap((t: any) => t.partitions.map((p: any) => ({ topic: t.topic, partition: p.partition, offset: String(p.offset) })));
  }
}

export class ConfluentClient implements KafkaClient {
  private readonly kafka: CkKafka;
  private readonly groups = new GroupConsumers();

  constructor(
    private readonly s: KafkaConnectionSettings,
    private readonly logger: Logger,
    private readonly hooks: KafkaClientHooks = {},
  ) {
    const security = connectionSecurity(s);
    const kafkaJS: Record<string, unknown> = {
      clientId: s.kafkaClientId,
      brokers: s.kafkaBrokers,
      ssl: security.tls,
      connectionTimeout: s.kafkaConnectionTimeoutMs,
      logger: loggerFor(logger) as never,
      logLevel: KafkaJS.logLevel.INFO,
    };
    if (security.sasl) kafkaJS.sasl = { mechanism: security.sasl.mechanism, username: security.sasl.username, password: security.sasl.password } as never;
    this.kafka = new KafkaJS.Kafka({ kafkaJS, ...(security.ca !== undefined ? { 'ssl.ca.pem': security.ca } : {}) });
  }

  producer(options: ProducerOptions = {}): Producer {
    const transactional = options.transactionalId !== undefined;
    const retry = options.retry;
    const p = this.kafka.producer({
      kafkaJS: {
        idempotent: options.idempotent ?? true,
        acks: -1,
        maxInFlightRequests: options.maxInFlightRequests ?? 5,
        ...(transactional ? { transactionalId: options.transactionalId, transactionTimeout: options.transactionTimeoutMs ?? 60_000 } : {}),
      },
      // murmur2 on the key bytes, as the Java client and keyPartition(): one key → one partition, whoever produced it.
      partitioner: 'murmur2_random',
      // Awaited sends are the rule here: do not hold records back for a fuller batch.
      'linger.ms': options.lingerMs ?? 5,
      // The broker's and topic's limits decide a record's size, as with the other clients
      // (librdkafka's own default refuses anything over 1,000,000 bytes before sending).
      'message.max.bytes': 64 * 1024 * 1024,
      ...(retry?.initialRetryTimeMs !== undefined ? { 'retry.backoff.ms': retry.initialRetryTimeMs } : {}),
      ...(retry?.maxRetryTimeMs !== undefined ? { 'retry.backoff.max.ms': retry.maxRetryTimeMs } : {}),
    });
    return new ConfluentProducer(p, transactional, this.groups);
  }

  consumer(options: ConsumerOptions): Consumer {
    const make = (rebalance: (err: { code: number }, assignment: TopicPartition[]) => Promise<StartingOffset[] | undefined>) =>
      this.kafka.consumer({
        kafkaJS: {
          groupId: options.groupId,
          fromBeginning: options.fromBeginning ?? true,
          autoCommit: false,
          readUncommitted: !(options.readCommitted ?? true),
          sessionTimeout: options.sessionTimeoutMs ?? 30_000,
          heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
          maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
          allowAutoTopicCreation: false,
        },
        // The KafkaJS layer maps maxBytes to fetch.message.max.bytes, which librdkafka reads as the
        // per-partition bound: both bounds are set here instead.
        'fetch.message.max.bytes': options.maxBytesPerPartition ?? 1_048_576,
        'fetch.max.bytes': options.maxBytes ?? 10_485_760,
        // librdkafka refuses a fetch.max.bytes below message.max.bytes (1,000,000 by default).
        'message.max.bytes': Math.max(1_000, Math.min(1_000_000, options.maxBytes ?? 10_485_760)),
        // Batches as large as a warehouse transaction or a Kafka transaction wants them (kafkajs hands
        // over a whole fetch); at 500, dwh-loader ran ~30 % slower at ~50 % more CPU per record.
        'js.consumer.max.batch.size': 4096,
        // librdkafka prefetches up to 100,000 records per partition and 64 MiB by default: bound the
        // prefetch by the consumer's fetch size instead, so memory follows the service's setting.
        'queued.max.messages.kbytes': Math.max(1_024, Math.ceil((options.maxBytes ?? 10_485_760) / 1_024)),
        'queued.min.messages': 10_000,
        // A partition whose prefetch queue is at those bounds is not fetched again for this long. The
        // layer above takes the whole queue at once, so with librdkafka's default (1 s) a handler faster
        // than that empties the queue and then waits out the rest of the second: a consumer that fills its
        // queue (a handler held by backpressure, or just behind) reads about one queue (~10 MiB) per second.
        'fetch.queue.backoff.ms': FETCH_QUEUE_BACKOFF_MS,
        // The library awaits it and assigns what it returns (starting offsets included).
        rebalance_cb: (err: { code: number }, assignment: TopicPartition[]) => rebalance(err, assignment),
      } as never);
    return new ConfluentConsumer(make, options, this.hooks, this.groups);
  }

  admin(): Admin {
    return new ConfluentAdmin(this.kafka.admin(), () =>
      kafkajsAdmin(new (require('kafkajs') as typeof import('kafkajs')).Kafka(kafkaConfigFrom(this.s, this.logger)).admin()),
    );
  }

  partitionReader(options: PartitionReaderOptions = {}): PartitionReader {
    // Fetch requests cost about half of librdkafka's CPU per record read; librdkafka reads what kafkajs cannot decode.
    return new FetchPartitionReader(
      kafkaConfigFrom(this.s, this.logger) as FetchReaderConnection,
      options,
      () => new ConfluentPartitionReader(rdkafkaConnection(this.s), options),
    );
  }
}

/** The connection settings in librdkafka's own terms, for the library's low-level clients. */
function rdkafkaConnection(s: KafkaConnectionSettings): Record<string, unknown> {
  const security = connectionSecurity(s);
  const protocol = `${security.sasl ? 'sasl_' : ''}${security.tls ? 'ssl' : 'plaintext'}`;
  return {
    'bootstrap.servers': s.kafkaBrokers.join(','),
    'client.id': s.kafkaClientId,
    'socket.connection.setup.timeout.ms': s.kafkaConnectionTimeoutMs,
    'security.protocol': protocol,
    ...(security.sasl
      ? { 'sasl.mechanisms': security.sasl.mechanism.toUpperCase(), 'sasl.username': security.sasl.username, 'sasl.password': security.sasl.password }
      : {}),
    ...(security.ca !== undefined ? { 'ssl.ca.pem': security.ca } : {}),
  };
}
