/**
 * The `Producer` interface over @platformatic/kafka (maintained, pure JS). Measured against
 * kafkajs on the same broker it produces at about twice the rate for half the CPU per record
 * (docs/benchmarks.md, "Kafka client"); consumers and admin stay on kafkajs, whose batch
 * consumption is the cheaper of the two. This file is the only place that imports it.
 *
 * The library is ESM-only, so it is loaded with a dynamic import on `connect()`.
 */
import { backoffDelayMs } from '../backoff';
import { connectionSecurity, type KafkaConnectionSettings } from './connection';
import type { DeliveryReport, OutgoingMessage, Producer, ProducerOptions, ProducerTransaction, TopicPartitionOffset } from './types';

type Lib = typeof import('@platformatic/kafka', { with: { 'resolution-mode': 'import' } });
type PlatformaticProducer = InstanceType<Lib['Producer']>;
type PlatformaticAdmin = InstanceType<Lib['Admin']>;
type MessageToProduce = Parameters<PlatformaticProducer['send']>[0]['messages'][number];

let loaded: Promise<Lib> | undefined;
function loadLib(): Promise<Lib> {
  return (loaded ??= import('@platformatic/kafka'));
}

/** What both the producer and its coordinator lookups connect with. Throws ConfigError naming a bad setting. */
function platformaticConnectionOptions(s: KafkaConnectionSettings) {
  const { sasl, tls, ca } = connectionSecurity(s);
  const mechanism = sasl && ({ plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const)[sasl.mechanism];
  return {
    clientId: s.kafkaClientId,
    bootstrapBrokers: s.kafkaBrokers,
    connectTimeout: s.kafkaConnectionTimeoutMs,
    // A few quick retries inside the library; past them the error reaches the service, which
    // counts it, logs it and retries with its own backoff.
    retries: 3,
    retryDelay: (_client: unknown, _op: string, attempt: number) => Math.max(20, backoffDelayMs(attempt, { initialMs: 300, maxMs: 30_000, multiplier: 2 })),
    ...(tls ? { tls: ca !== undefined ? { ca: [ca] } : {} } : {}),
    ...(sasl ? { sasl: { mechanism: mechanism!, username: sasl.username, password: sasl.password } } : {}),
  };
}

const toBuffer = (v: string | Buffer | null | undefined): Buffer | undefined => (v === null || v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v) : v);

/** murmur2 & 0x7fffffff modulo the partition count, exactly as the Java client and kafkajs's DefaultPartitioner: upgrading the client never moves a key. */
function makePartitioner(lib: Lib) {
  let roundRobin = 0;
  return (_m: unknown, key: Buffer | undefined) => (key === undefined ? roundRobin++ & 0x7fffffff : lib.compatibilityPartitioner(_m as never, key));
}

/** Header names repeat on every record (`tideway.columns`, DLQ headers): encode each once. */
const headerNames = new Map<string, Buffer>();
function headerName(k: string): Buffer {
  let b = headerNames.get(k);
  if (!b) {
    b = Buffer.from(k);
    if (headerNames.size < 1000) headerNames.set(k, b);
  }
  return b;
}

function toMessage(m: OutgoingMessage): MessageToProduce {
  let headers: Map<Buffer, Buffer> | undefined;
  if (m.headers) {
    headers = new Map();
    for (const k in m.headers) headers.set(headerName(k), toBuffer(m.headers[k])!);
  }
  return {
    topic: m.topic,
    key: toBuffer(m.key),
    // A tombstone is a null value on the wire; the library writes `undefined` as null.
    value: toBuffer(m.value) as Buffer,
    ...(m.partition !== undefined ? { partition: m.partition } : {}),
    ...(headers ? { headers } : {}),
    ...(m.timestamp !== undefined ? { timestamp: BigInt(m.timestamp) } : {}),
  };
}

function reports(result: { offsets?: Array<{ topic: string; partition: number; offset: bigint }> }): DeliveryReport[] {
  return (result.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, baseOffset: String(o.offset) }));
}

export class PlatformaticKafkaProducer implements Producer {
  private p?: PlatformaticProducer;
  private lib?: Lib;
  private admin?: PlatformaticAdmin;
  private partitioner?: ReturnType<typeof makePartitioner>;
  /** Group coordinator node per group id, for offsets sent in a transaction. */
  private readonly coordinators = new Map<string, number>();
  /**
   * Sends run one at a time. The library numbers an idempotent batch from the partition's
   * sequence as it stands when the request is built and advances it on the response, so two
   * concurrent sends to one partition would carry the same sequence and the broker would
   * drop the second as a duplicate.
   */
  private tail: Promise<unknown> = Promise.resolve();

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Computed once (the CA file is read here): a bad setting exits 2 at start, not at the first send. */
  private readonly connectionOptions: ReturnType<typeof platformaticConnectionOptions>;

  constructor(
    connection: KafkaConnectionSettings,
    private readonly options: ProducerOptions = {},
  ) {
    this.connectionOptions = platformaticConnectionOptions(connection);
  }

  async connect(): Promise<void> {
    if (this.p && !this.p.closed) return;
    this.lib = await loadLib();
    this.partitioner = makePartitioner(this.lib);
    const o = this.options;
    this.p = new this.lib.Producer({
      ...this.connectionOptions,
      idempotent: o.idempotent ?? true,
      acks: this.lib.ProduceAcks.ALL,
      maxInflights: o.maxInFlightRequests ?? (o.transactionalId ? 1 : 5),
      autocreateTopics: true,
      // InitProducerId must say "no producer id yet" (-1/-1): the library's default 0/0 claims
      // epoch 0 of producer 0, which the broker answers PRODUCER_FENCED once the id has an owner.
      ...(o.transactionalId ? { transactionalId: o.transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
      ...(o.retry
        ? {
            retries: o.retry.retries ?? 8,
            retryDelay: (_c: unknown, _op: string, attempt: number) => Math.min(o.retry?.maxRetryTimeMs ?? 30_000, (o.retry?.initialRetryTimeMs ?? 300) * 2 ** attempt),
          }
        : {}),
    });
    // Connect now, so an unreachable cluster fails here as with kafkajs rather than on the first send.
    await this.p.metadata({ topics: [] });
    if ((o.idempotent ?? true) && !o.transactionalId) await this.p.initIdempotentProducer({});
  }

  async disconnect(): Promise<void> {
    const p = this.p;
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close().catch(() => undefined);
    if (p && !p.closed) await p.close();
  }

  isConnected(): boolean {
    return !!this.p && !this.p.closed && this.p.isConnected();
  }

  private producer(): PlatformaticProducer {
    if (!this.p || this.p.closed) throw new Error('producer is not connected');
    return this.p;
  }

  async send(messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return [];
    const p = this.producer();
    const result = await this.serially(() => p.send({ messages: messages.map(toMessage), partitioner: this.partitioner, acks: this.lib!.ProduceAcks.ALL }));
    return reports(result);
  }

  async transaction(): Promise<ProducerTransaction> {
    if (!this.options.transactionalId) throw new Error('producer was not created with a transactionalId');
    const p = this.producer();
    // The first transaction initialises the transactional id, which fences a previous owner.
    const t = await p.beginTransaction();
    // The broker knows a transaction only once a partition or a group joined it; ending an empty
    // one there is INVALID_TXN_STATE, so it ends locally (as kafkajs does).
    let touched = false;
    return {
      send: async (messages) => {
        if (messages.length === 0) return;
        touched = true;
        await this.serially(() => t.send({ messages: messages.map(toMessage), partitioner: this.partitioner, acks: this.lib!.ProduceAcks.ALL }));
      },
      sendOffsets: async (groupId, offsets) => {
        if (offsets.length === 0) return;
        touched = true;
        await t.addConsumer({ groupId } as never);
        const coordinatorId = await this.groupCoordinator(groupId);
        for (const o of offsets) await t.addOffset(offsetMessage(groupId, coordinatorId, o));
      },
      commit: () => (touched ? t.commit() : t.cancel()),
      abort: () => (touched ? t.abort() : t.cancel()),
    };
  }

  private async groupCoordinator(groupId: string): Promise<number> {
    const known = this.coordinators.get(groupId);
    if (known !== undefined) return known;
    this.admin ??= new this.lib!.Admin(this.connectionOptions);
    const [found] = await this.admin.findCoordinator({ keyType: this.lib!.FindCoordinatorKeyTypes.GROUP, keys: [groupId] });
    if (!found) throw new Error(`no coordinator found for group ${groupId}`);
    this.coordinators.set(groupId, found.nodeId);
    return found.nodeId;
  }
}

/**
 * The library commits offsets in a transaction from a consumed message (committing its offset + 1)
 * and that message's group metadata. Our consumers are kafkajs's, so the metadata is the
 * group's without a generation, as kafkajs's own TxnOffsetCommit sends it; zombies are fenced by
 * the transactional id instead (one id per input partition).
 */
function offsetMessage(groupId: string, coordinatorId: number, o: TopicPartitionOffset) {
  return {
    topic: o.topic,
    partition: o.partition,
    offset: BigInt(o.offset) - 1n,
    metadata: { consumer: { groupId, generationId: -1, memberId: '', coordinatorId } },
  } as never;
}
