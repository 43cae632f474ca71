/**
 * consume → evaluate → produce, exactly once, in two stages over one consumer group:
 *
 * 1. input partitions: decode, run predicate rules, project events of stateful rules to the
 *    repartition topic `<group>.repartition`, keyed by (rule, group key);
 * 2. repartition partitions: windows and cooldowns per key (PartitionState), results to the
 *    alerts / sink / late topics, state changes to the compacted `<group>.changelog`.
 *
 * A partition's results gather for ALERTING_COMMIT_INTERVAL_MS (or until they are large), then
 * become one Kafka transaction holding the output records, the changelog of the state keys
 * that changed (once per key, however often it changed) and the consumer offset after the last
 * batch. Stage 1 writes one repartition record per destination partition and transaction
 * (see repartition-bundles.ts). Every partition has its own transactional id
 * (`<group>-<topic>-<partition>`), so whichever instance owns a partition fences the previous
 * owner's producer: a zombie of an old rebalance cannot commit anything afterwards. The new
 * owner reads the committed offset only after fencing and seeks to it, since offsets read at
 * group join can predate the zombie's last commit (the gap KIP-447 closes in the Java client).
 */
import {
  errorMessage,
  toDeadLetter,
  type Admin,
  type Consumer,
  type ConsumerMetrics,
  type KafkaClient,
  type Logger,
  type MessageBatch,
  type OutgoingMessage,
  type Producer,
  type TopicPartition,
} from '@tideway/runtime';
import type { AlertingSettings } from '../config';
import { newSentinel, restoreChangelog, SENTINEL_KEY } from '../io/changelog-restore';
import type { LookupTables } from '../io/table-store';
import type { AlertingMetrics } from '../metrics';
import { alertMessage, AlertTally } from './alert';
import { admitBatch } from './batch-admission';
import type { BatchEvaluation } from './batch-evaluation';
import { EvaluationThreads, InlineEvaluation, type InputEvaluation } from './evaluation-threads';
import type { ForwardedEvent, RuleIndex } from './input-evaluator';
import { emptyOutput, PartitionState, type StageOutput } from './partition-state';
import { decodeRepartitionValue, RepartitionBundler } from './repartition-bundles';
import { groupBySize } from './size-groups';

export function internalTopics(groupId: string) {
  return { repartition: `${groupId}.repartition`, changelog: `${groupId}.changelog` };
}

const SERVICE = 'alerting';
/** A send's records for one partition form one record batch, which must stay under the broker's message.max.bytes (1 MiB by default). */
const MAX_SEND_BYTES = 256 * 1024;
/** Pending output beyond this commits at once, whatever the interval (bounds memory). */
const MAX_PENDING_BYTES = 2 * 1024 * 1024;
/** The next transaction meets CONCURRENT_TRANSACTIONS until the last one's markers are written: retry that soon. */
const TRANSACTIONAL_RETRY = { initialRetryTimeMs: 20, maxRetryTimeMs: 5000, retries: 12 };

function approxSize(m: OutgoingMessage): number {
  let n = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + v.length;
  return n;
}

/** Splits records into sends of at most `maxBytes` (a single larger record goes alone). */
export function chunkBySize(records: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  return groupBySize(records, approxSize, maxBytes);
}

/** What a partition has evaluated since its last commit: the next transaction. */
class PendingTransaction {
  records: OutgoingMessage[] = [];
  readonly forwarded = new RepartitionBundler();
  /** Alerts by rule and severity, counted in metrics once committed. */
  readonly alerts = new AlertTally();
  afters: Array<() => void> = [];
  bytes = 0;
  /** First offset not yet committed: where reading resumes if this transaction fails. */
  base: string | undefined;
  /** Offset after the last batch included. */
  next: string | undefined;
  highWatermark: string | undefined;
  /** The state stage has applied events or moved its watermark since the last commit. */
  stateTouched = false;
  readonly openedAt = Date.now();

  get empty(): boolean {
    return this.next === undefined && !this.stateTouched && this.records.length === 0;
  }
}

class PartitionWorker {
  state?: PartitionState;
  pending: PendingTransaction;
  flushTimer?: NodeJS.Timeout;
  /** Committed offset read after fencing: batches starting before it are replays of a zombie's work. */
  committed: bigint | undefined;
  checkedFirstBatch = false;
  /**
   * Offset after the last record this worker evaluated (pending or committed). After a rebalance
   * that keeps the partition here, the consumer fetches again from the last committed offset:
   * records before this position are already in the pending transaction and must not count twice.
   */
  position: bigint | undefined;
  lastEventWall = Date.now();
  lastEventWatermark = -Infinity;
  /** Nothing is left to read in this partition (from the consumer's position after each fetched batch). */
  caughtUp = false;
  closed = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly producer: Producer,
  ) {
    this.pending = new PendingTransaction();
  }

  /** Batches and idle ticks of one partition never interleave. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

export interface PipelineDeps {
  kafka: KafkaClient;
  logger: Logger;
  settings: AlertingSettings;
  metrics: AlertingMetrics;
  consumerMetrics: ConsumerMetrics;
  tables: LookupTables;
  signal: AbortSignal;
  /** Unrecoverable problems (e.g. topic setup) stop the service. */
  fail(err: unknown): void;
}

export class TransactionalPipeline {
  private consumer?: Consumer;
  private admin?: Admin;
  private readonly workers = new Map<string, Promise<PartitionWorker>>();
  private readonly topics: { repartition: string; changelog: string };
  private repartitionPartitions = 0;
  private idleTimer?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private stopped = false;
  private evaluation?: InputEvaluation;
  /** Input batches sent to evaluation whose results are not yet in their pending transaction. */
  private readonly inFlight = new Set<Promise<void>>();
  private hasAssignment = false;

  constructor(
    private readonly deps: PipelineDeps,
    private index: RuleIndex,
  ) {
    this.topics = internalTopics(deps.settings.groupId);
    deps.signal.addEventListener('abort', () => this.abort.abort(), { once: true });
  }

  /**
   * Readiness: an assignment is served and the consumer is connected (it is not while the broker
   * is unreachable: kafkajs crashes and restarts it until the group is joined again).
   */
  get assigned(): boolean {
    return this.hasAssignment && this.consumer?.isConnected() === true;
  }

  /** Swaps the rules in place (same input topics). */
  setRules(index: RuleIndex): void {
    this.index = index;
    this.evaluation?.setRules(index);
    for (const w of this.workers.values()) void w.then((x) => x.state?.setRules(index)).catch(() => undefined);
  }

  get inputTopics(): string[] {
    return this.index.ruleSet.inputTopics;
  }

  async start(): Promise<void> {
    const { kafka, settings, logger } = this.deps;
    this.admin = kafka.admin();
    await this.admin.connect();
    this.repartitionPartitions = await this.admin.partitionCount(this.topics.repartition);
    if (this.repartitionPartitions === 0) throw new Error(`topic ${this.topics.repartition} does not exist`);
    this.evaluation =
      settings.evaluationThreads > 0
        ? new EvaluationThreads({ count: settings.evaluationThreads, ruleSet: this.index.ruleSet, tables: this.deps.tables, alertsTopic: settings.alertsTopic, logger, onThreadDied: () => this.deps.metrics.evaluationThreadDeaths.inc() })
        : new InlineEvaluation(this.index, this.deps.tables, settings.alertsTopic);
    this.consumer = kafka.consumer({ groupId: settings.groupId, fromBeginning: true, readCommitted: true, maxWaitTimeMs: settings.fetchMaxWaitMs, maxBytesPerPartition: settings.fetchMaxBytesPerPartition, maxBytes: 4 * settings.fetchMaxBytesPerPartition, partitionsConsumedConcurrently: settings.partitionConcurrency, sessionTimeoutMs: settings.sessionTimeoutMs, heartbeatIntervalMs: Math.max(100, Math.floor(settings.sessionTimeoutMs / 10)) });
    this.consumer.onAssignment((a) => this.onAssignment(a));
    this.consumer.onRebalancing(() => (this.hasAssignment = false));
    // Includes fetches that returned only transaction markers, which never reach handleBatch:
    // with several producers writing one partition, its end can be a run of markers.
    this.consumer.onBatchEnd((p) => {
      void this.workers.get(`${p.topic}:${p.partition}`)?.then((w) => (w.caughtUp = BigInt(p.next) >= BigInt(p.highWatermark)), () => undefined);
    });
    await this.consumer.connect();
    await this.consumer.subscribe([...this.inputTopics, this.topics.repartition]);
    await this.consumer.run((batch) => this.handleBatch(batch));
    const tick = Math.max(50, Math.min(1000, Math.floor(settings.idleTimeoutMs / 4)));
    this.idleTimer = setInterval(() => void this.advanceIdlePartitions(), tick);
    logger.info({ group: settings.groupId, inputs: this.inputTopics, ...this.topics }, 'pipeline started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect().catch((err) => this.deps.logger.warn({ err: errorMessage(err) }, 'consumer disconnect failed'));
    const workers = [...this.workers.values()];
    this.workers.clear();
    for (const w of workers) {
      const worker = await w.catch(() => undefined);
      if (!worker) continue;
      // What was evaluated since the last commit is committed now rather than evaluated again after the restart.
      await worker.exclusive(() => this.flush(worker)).catch(() => undefined);
      await worker.exclusive(() => this.closeWorker(worker));
    }
    await this.evaluation?.close();
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Open windows and state keys across owned partitions (metrics). */
  async stateSummary(): Promise<{ openWindows: number; keys: number }> {
    let openWindows = 0;
    let keys = 0;
    for (const w of this.workers.values()) {
      const worker = await w.catch(() => undefined);
      if (worker?.state) {
        openWindows += worker.state.openWindows();
        keys += worker.state.size;
      }
    }
    return { openWindows, keys };
  }

  private onAssignment(assigned: TopicPartition[]) {
    const wanted = new Set(assigned.map((a) => `${a.topic}:${a.partition}`));
    for (const [id, w] of this.workers) {
      if (wanted.has(id)) continue;
      this.workers.delete(id);
      void w.then((worker) => worker.exclusive(() => this.closeWorker(worker))).catch(() => undefined);
    }
    const fresh = assigned.filter((a) => !this.workers.has(`${a.topic}:${a.partition}`));
    const freshState = fresh.filter((a) => a.topic === this.topics.repartition).map((a) => a.partition);
    if (freshState.length > 0) this.openStateWorkers(freshState);
    // Input workers too, eagerly: whether they have a backlog decides if other partitions may count as idle.
    for (const a of fresh) if (a.topic !== this.topics.repartition) void this.workerFor(a.topic, a.partition).catch(() => this.workers.delete(`${a.topic}:${a.partition}`));
    this.hasAssignment = true;
    this.deps.logger.info({ partitions: assigned.length }, 'partitions assigned');
  }

  private async closeWorker(worker: PartitionWorker) {
    if (worker.closed) return;
    worker.closed = true;
    clearTimeout(worker.flushTimer);
    await worker.producer.disconnect().catch(() => undefined);
  }

  private async connectWorker(topic: string, partition: number): Promise<PartitionWorker> {
    const { kafka, settings } = this.deps;
    const producer = kafka.producer({ transactionalId: `${settings.groupId}-${topic}-${partition}`, transactionTimeoutMs: settings.transactionTimeoutMs, retry: TRANSACTIONAL_RETRY });
    await producer.connect();
    const worker = new PartitionWorker(topic, partition, producer);
    try {
      // Initialising the transactional id fences the previous owner and aborts its open transaction.
      const t = await producer.transaction();
      await t.abort();
      const committed = (await this.admin!.committedOffsets(settings.groupId, topic)).find((o) => o.partition === partition)?.offset;
      worker.committed = committed !== undefined && committed !== '-1' ? BigInt(committed) : undefined;
      worker.position = worker.committed;
      const end = BigInt((await this.admin!.endOffsets(topic)).find((o) => o.partition === partition)?.offset ?? '0');
      worker.caughtUp = end === 0n || (worker.committed !== undefined && worker.committed + 1n >= end);
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return worker;
  }

  private openStateWorkers(partitions: number[]) {
    const all = (async () => {
      const workers = await Promise.all(partitions.map((p) => this.connectWorker(this.topics.repartition, p)));
      const targets = [];
      for (const w of workers) {
        w.state = new PartitionState(this.index);
        const sentinel = newSentinel();
        const t = await w.producer.transaction();
        try {
          await t.send([{ topic: this.topics.changelog, partition: w.partition, key: SENTINEL_KEY, value: sentinel }]);
          await t.commit();
        } catch (err) {
          await t.abort().catch(() => undefined);
          throw err;
        }
        const state = w.state;
        targets.push({ partition: w.partition, sentinel, apply: (k: string, v: string | null) => state.restore(k, v) });
      }
      await restoreChangelog(this.deps.kafka, this.deps.logger, this.deps.settings.groupId, this.topics.changelog, targets, this.abort.signal);
      for (const w of workers) w.lastEventWatermark = w.state!.watermark;
      return workers;
    })();
    for (const p of partitions) {
      const id = `${this.topics.repartition}:${p}`;
      const promise = all.then((ws) => ws.find((w) => w.partition === p)!);
      promise.catch(() => undefined);
      this.workers.set(id, promise);
    }
  }

  private workerFor(topic: string, partition: number): Promise<PartitionWorker> {
    const id = `${topic}:${partition}`;
    let w = this.workers.get(id);
    if (!w) {
      if (topic === this.topics.repartition) this.openStateWorkers([partition]);
      else {
        const p = this.connectWorker(topic, partition);
        p.catch(() => undefined);
        this.workers.set(id, p);
      }
      w = this.workers.get(id)!;
    }
    return w;
  }

  /** After a failed transaction the partition's memory is ahead of what was committed: start it over. */
  private async discardWorker(worker: PartitionWorker) {
    const id = `${worker.topic}:${worker.partition}`;
    const current = this.workers.get(id);
    if (current && (await current.catch(() => undefined)) === worker) this.workers.delete(id);
    await this.closeWorker(worker);
  }

  private async handleBatch(batch: MessageBatch): Promise<void> {
    if (this.stopped || batch.messages.length === 0) return;
    let worker: PartitionWorker;
    try {
      worker = await this.workerFor(batch.topic, batch.partition);
    } catch (err) {
      this.workers.delete(`${batch.topic}:${batch.partition}`);
      throw err;
    }
    if (this.stopped || batch.isStale()) return;
    if (batch.topic !== this.topics.repartition) return this.dispatchInput(worker, batch);
    await worker.exclusive(async () => {
      const fresh = this.admit(worker, batch);
      if (!fresh) return;
      const started = process.hrtime.bigint();
      worker.pending.base ??= fresh.messages[0].offset;
      this.evaluateState(worker, fresh);
      this.advancePending(worker, fresh);
      this.deps.metrics.batchDuration.observe({ stage: 'state' }, Number(process.hrtime.bigint() - started) / 1e9);
      await this.flushOrSchedule(worker);
    });
  }

  /**
   * The records of a batch not seen yet by this worker, or undefined. Anything before the
   * worker's position was evaluated already (see PartitionWorker.position); a new owner's first
   * batch may start before the previous owner's last commit.
   */
  private admit(worker: PartitionWorker, batch: MessageBatch): MessageBatch | undefined {
    if (worker.closed) throw new Error(`partition ${batch.topic}:${batch.partition} was released; refetching`);
    // A failed commit seeks back while later batches may already have been fetched: those are stale.
    if (batch.isStale()) return undefined;
    const admission = admitBatch(worker, batch.messages.map((m) => m.offset));
    worker.checkedFirstBatch = true;
    if (admission.kind === 'seek') {
      this.deps.logger.info({ topic: batch.topic, partition: batch.partition, from: batch.messages[0].offset, to: String(admission.offset) }, 'skipping records committed by the previous owner');
      this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: String(admission.offset) });
      return undefined;
    }
    if (admission.kind === 'skip') return undefined;
    return admission.from === 0 ? batch : { ...batch, messages: batch.messages.slice(admission.from) };
  }

  /** The batch is in the pending transaction: the offset to commit and the worker's position move past it. */
  private advancePending(worker: PartitionWorker, batch: MessageBatch) {
    const next = String(BigInt(batch.messages[batch.messages.length - 1].offset) + 1n);
    worker.pending.next = next;
    worker.position = BigInt(next);
    worker.pending.highWatermark = batch.highWatermark;
  }

  /**
   * Commits run on their timer, beside the fetch loop, so one partition's transaction does not
   * hold up the others' batches; only a partition with too much pending output waits for it.
   */
  private async flushOrSchedule(worker: PartitionWorker) {
    if (worker.pending.bytes >= MAX_PENDING_BYTES) await this.flush(worker);
    else this.scheduleFlush(worker);
  }

  /**
   * Input batches are evaluated off the fetch loop (see evaluation-threads.ts): this returns once
   * the batch is sent, so the next batches are fetched, and repartitioned events windowed, while
   * it is evaluated. Its result joins the pending transaction in the order batches were sent;
   * at most a few batches are out at a time.
   */
  private async dispatchInput(worker: PartitionWorker, batch: MessageBatch) {
    const fresh = this.admit(worker, batch);
    if (!fresh) return;
    const evaluation = (async () => this.evaluation!.evaluate(fresh.messages, this.repartitionPartitions))();
    // Awaited in order below; until then a failure must not count as unhandled.
    evaluation.catch(() => undefined);
    worker.position = BigInt(fresh.messages[fresh.messages.length - 1].offset) + 1n;
    const merged = worker.exclusive(async () => {
      let result: BatchEvaluation;
      try {
        result = await evaluation;
      } catch (err) {
        if (worker.closed) return;
        // Nothing of this batch is pending: the partition starts over from its last commit.
        this.deps.logger.warn({ topic: worker.topic, partition: worker.partition, err: errorMessage(err) }, 'batch evaluation failed; the partition restarts from its last commit');
        if (!this.stopped) this.consumer?.seek({ topic: worker.topic, partition: worker.partition, offset: worker.pending.base ?? fresh.messages[0].offset });
        await this.discardWorker(worker);
        return;
      }
      if (worker.closed) return;
      worker.pending.base ??= fresh.messages[0].offset;
      this.mergeInput(worker.pending, fresh, result);
      this.advancePending(worker, fresh);
      this.deps.metrics.batchDuration.observe({ stage: 'input' }, result.seconds);
      await this.flushOrSchedule(worker);
    });
    const tracked = merged.catch(() => undefined).then(() => void this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    const limit = 2 * Math.max(1, this.deps.settings.evaluationThreads);
    while (this.inFlight.size >= limit) await Promise.race(this.inFlight);
  }

  /** Commits the partition's pending transaction when its interval is up, unless a batch did it first. */
  private scheduleFlush(worker: PartitionWorker) {
    if (worker.flushTimer) return;
    const due = Math.max(0, worker.pending.openedAt + this.deps.settings.commitIntervalMs - Date.now());
    worker.flushTimer = setTimeout(() => {
      worker.flushTimer = undefined;
      void worker.exclusive(() => this.flush(worker)).catch(() => undefined);
    }, due);
  }

  /**
   * One transaction with everything pending. On failure the partition's worker is discarded (its
   * memory is ahead of what was committed) and reading resumes at the first uncommitted offset.
   */
  private async flush(worker: PartitionWorker): Promise<void> {
    clearTimeout(worker.flushTimer);
    worker.flushTimer = undefined;
    if (worker.closed || worker.pending.empty) return;
    const pending = worker.pending;
    worker.pending = new PendingTransaction();
    const started = process.hrtime.bigint();
    if (worker.state) {
      const out = emptyOutput();
      worker.state.advance(out);
      this.addStateOutput(pending, worker, out);
    }
    const records = [...pending.records, ...pending.forwarded.records(this.topics.repartition)];
    if (worker.state) records.push(...worker.state.takeChangelog(this.topics.changelog, worker.partition));
    const offsets = pending.next === undefined ? [] : [{ topic: worker.topic, partition: worker.partition, offset: pending.next }];
    try {
      await this.commit(worker, records, offsets);
    } catch (err) {
      if (pending.base !== undefined && !this.stopped) this.consumer?.seek({ topic: worker.topic, partition: worker.partition, offset: pending.base });
      throw err;
    }
    this.deps.metrics.batchDuration.observe({ stage: 'commit' }, Number(process.hrtime.bigint() - started) / 1e9);
    for (const c of pending.alerts.entries()) this.deps.metrics.alerts.inc({ rule: c.rule, severity: c.severity }, c.n);
    for (const after of pending.afters) after();
    if (pending.next !== undefined && pending.highWatermark !== undefined) {
      this.deps.consumerMetrics.recordLag(this.deps.settings.groupId, worker.topic, worker.partition, pending.highWatermark, pending.next);
    }
  }

  private async commit(worker: PartitionWorker, records: OutgoingMessage[], offsets: Array<{ topic: string; partition: number; offset: string }>) {
    const t = await worker.producer.transaction();
    try {
      for (const chunk of chunkBySize(records, MAX_SEND_BYTES)) await t.send(chunk);
      if (offsets.length > 0) await t.sendOffsets(this.deps.settings.groupId, offsets);
      await t.commit();
      this.deps.metrics.transactions.inc({ outcome: 'committed' });
    } catch (err) {
      this.deps.metrics.transactions.inc({ outcome: 'aborted' });
      await t.abort().catch(() => undefined);
      this.deps.logger.warn({ topic: worker.topic, partition: worker.partition, err: errorMessage(err) }, 'transaction failed; the partition restarts from its last commit');
      await this.discardWorker(worker);
      throw err;
    }
  }

  /** Stage 1's result of a batch joins the pending transaction. */
  private mergeInput(pending: PendingTransaction, batch: MessageBatch, r: BatchEvaluation) {
    const { metrics, consumerMetrics, settings } = this.deps;
    pending.records.push(...r.alertRecords);
    for (const c of r.alertCounts) pending.alerts.add(c.rule, c.severity, c.n);
    pending.forwarded.addFragments(r.forwarded);
    pending.bytes += r.bytes;
    for (const d of r.deadLetters) {
      const m = batch.messages[d.index];
      pending.records.push(toDeadLetter({ message: m, reason: d.reason, error: d.error, service: SERVICE, topic: `${m.topic}${settings.dlqSuffix}` }));
      consumerMetrics.deadLettered.inc({ topic: m.topic, reason: d.reason });
    }
    const timestamps = batch.messages.map((m) => m.timestamp);
    pending.afters.push(() => {
      metrics.eventsEvaluated.inc({ topic: batch.topic }, batch.messages.length);
      for (const [rule, n] of r.evaluationErrors) metrics.evaluationErrors.inc({ rule }, n);
      const now = Date.now();
      for (const ts of timestamps) metrics.recordLatency.observe(Math.max(0, now - ts) / 1000);
    });
  }

  private evaluateState(worker: PartitionWorker, batch: MessageBatch) {
    const state = worker.state!;
    const out = emptyOutput();
    for (const m of batch.messages) {
      let events: ForwardedEvent[];
      try {
        events = decodeRepartitionValue(m.value);
      } catch (err) {
        worker.pending.records.push(toDeadLetter({ message: m, reason: 'malformed_json', error: errorMessage(err), service: SERVICE, topic: `${m.topic}${this.deps.settings.dlqSuffix}` }));
        this.deps.consumerMetrics.deadLettered.inc({ topic: m.topic, reason: 'malformed_json' });
        continue;
      }
      for (const ev of events) state.apply(ev, out);
    }
    worker.lastEventWall = Date.now();
    worker.lastEventWatermark = state.watermark;
    worker.pending.stateTouched = true;
    this.addStateOutput(worker.pending, worker, out);
  }

  /** Windows' results and late events join the pending transaction; the changelog is taken at commit. */
  private addStateOutput(pending: PendingTransaction, worker: PartitionWorker, out: StageOutput) {
    const { settings, metrics } = this.deps;
    for (const a of out.alerts) {
      const rec = alertMessage(settings.alertsTopic, a);
      pending.records.push(rec);
      pending.bytes += approxSize(rec);
      pending.alerts.add(a.rule, a.severity);
    }
    for (const r of out.records) {
      pending.records.push(r);
      pending.bytes += approxSize(r);
    }
    pending.bytes += 64 * worker.state!.changedKeys;
    pending.afters.push(() => {
      for (const l of out.late) metrics.lateEvents.inc({ rule: l.rule });
      for (const s of out.suppressed) metrics.suppressed.inc({ rule: s.rule });
      for (const r of out.records) {
        const agg = r.headers?.['tideway.aggregation'];
        if (typeof agg === 'string') metrics.aggregationResults.inc({ aggregation: agg });
      }
    });
  }

  /**
   * Partitions without events for ALERTING_IDLE_TIMEOUT_MS stop holding windows open: their
   * event time moves to the most advanced partition of this instance (as Flink leaves idle
   * inputs out of its watermark), or with the wall clock since the last event, whichever is later.
   * Only while nothing is waiting to be read here: a partition behind on its backlog, or any
   * input partition of this instance that is, is busy, not idle.
   */
  private async advanceIdlePartitions() {
    const now = Date.now();
    const workers = (await Promise.all([...this.workers.values()].map((w) => w.catch(() => undefined)))).filter((w): w is PartitionWorker => !!w?.state && !w.closed);
    const inputs = (await Promise.all([...this.workers.values()].map((w) => w.catch(() => undefined)))).filter((w): w is PartitionWorker => !!w && !w.state && !w.closed);
    if (inputs.some((w) => !w.caughtUp)) return;
    const localMax = Math.max(-Infinity, ...workers.map((w) => w.state!.watermark));
    for (const worker of workers) {
      if (this.stopped) return;
      if (!worker.caughtUp || now - worker.lastEventWall < this.deps.settings.idleTimeoutMs || !Number.isFinite(worker.lastEventWatermark)) continue;
      await worker
        .exclusive(async () => {
          if (worker.closed || this.stopped) return;
          const state = worker.state!;
          const target = Math.max(localMax, worker.lastEventWatermark + (Date.now() - worker.lastEventWall));
          if (target <= state.watermark) return;
          const out = emptyOutput();
          state.advance(out, target);
          // A watermark move alone is not worth a transaction; it is persisted with the next one.
          if (out.alerts.length === 0 && out.records.length === 0 && state.changedKeys === 0) return;
          worker.pending.stateTouched = true;
          this.addStateOutput(worker.pending, worker, out);
          await this.flush(worker);
        })
        .catch((err) => this.deps.logger.warn({ partition: worker.partition, err: errorMessage(err) }, 'idle advance failed'));
    }
  }
}
