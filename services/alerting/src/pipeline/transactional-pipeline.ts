/**
 * consume → evaluate → produce, exactly once, in two stages over one consumer group:
 *
 * 1. input partitions: decode, run predicate rules, project events of stateful rules to the
 *    repartition topic `<group>.repartition`, keyed by (rule, group key) (input-stage.ts);
 * 2. repartition partitions: windows and cooldowns per key (window-stage.ts), results to the
 *    alerts / sink / late topics, state changes to the compacted `<group>.changelog`.
 *
 * A partition's results gather for ALERTING_COMMIT_INTERVAL_MS (or until they are large), then
 * become one Kafka transaction holding the output records, the changelog of the state keys
 * that changed (once per key, however often it changed) and the consumer offset after the last
 * batch. Stage 1 writes one repartition record per destination partition and transaction
 * (see repartition-bundles.ts). Every partition has its own transactional producer, which fences
 * the previous owner's (partition-worker.ts): a zombie of an old rebalance cannot commit
 * anything afterwards. The new owner reads the committed offset only after fencing and seeks to
 * it when its first batch starts earlier (batch-admission.ts).
 *
 * This module runs the consumer and routes its batches and assignments to the partition workers.
 */
import {
  errorMessage,
  ignoreFailure,
  type Admin,
  type Consumer,
  type ConsumerMetrics,
  type KafkaClient,
  type Logger,
  type MessageBatch,
  type TopicPartition,
} from '@tideway/runtime';
import type { AlertingSettings } from '../config';
import { internalTopics } from '../io/topic-setup';
import type { LookupTables } from '../io/table-store';
import type { AlertingMetrics } from '../metrics';
import { admitBatch } from './batch-admission';
import { EvaluationThreads, InlineEvaluation, type InputEvaluation } from './evaluation-threads';
import { advanceIdlePartitions } from './idle-advance';
import type { RuleIndex } from './input-evaluator';
import { InputStage } from './input-stage';
import { emptyOutput, type StageOutput } from './partition-state';
import { openPartitionWorker, workerId, type OpenWorkerOptions, type PartitionWorker } from './partition-worker';
import { assignmentChange, PartitionWorkers, settled } from './partition-workers';
import type { PendingContext } from './pending-transaction';
import { restoreWindowState } from './state-restore';
import { commitTransaction } from './transaction-commit';
import { evaluateWindowBatch } from './window-stage';

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
  private readonly workers = new PartitionWorkers();
  private readonly topics: { repartition: string; changelog: string };
  private repartitionPartitions = 0;
  private idleTimer?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private stopped = false;
  private evaluation?: InputEvaluation;
  private inputStage?: InputStage;
  private hasAssignment = false;
  private readonly pendingContext: PendingContext;

  constructor(
    private readonly deps: PipelineDeps,
    private index: RuleIndex,
  ) {
    this.topics = internalTopics(deps.settings.groupId);
    const { settings, metrics, consumerMetrics } = deps;
    this.pendingContext = { alertsTopic: settings.alertsTopic, dlqSuffix: settings.dlqSuffix, metrics, consumerMetrics };
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
    for (const id of this.workers.ids()) {
      void this.workers
        .get(id)!
        .then((x) => x.state?.setRules(index))
        .catch(ignoreFailure(this.deps.logger, 'swapping the rules of a partition worker', { worker: id }, 'warn'));
    }
  }

  get inputTopics(): string[] {
    return this.index.ruleSet.inputTopics;
  }

  async start(): Promise<void> {
    const { kafka, settings, logger, metrics } = this.deps;
    this.admin = kafka.admin();
    await this.admin.connect();
    this.repartitionPartitions = await this.admin.partitionCount(this.topics.repartition);
    if (this.repartitionPartitions === 0) throw new Error(`topic ${this.topics.repartition} does not exist`);
    const evaluation =
      settings.evaluationThreads > 0
        ? new EvaluationThreads({
            count: settings.evaluationThreads,
            ruleSet: this.index.ruleSet,
            tables: this.deps.tables,
            alertsTopic: settings.alertsTopic,
            logger,
            onThreadDied: () => metrics.evaluationThreadDeaths.inc(),
          })
        : new InlineEvaluation(this.index, this.deps.tables, settings.alertsTopic);
    this.evaluation = evaluation;
    this.inputStage = new InputStage({
      evaluate: (messages) => evaluation.evaluate(messages, this.repartitionPartitions),
      pendingContext: this.pendingContext,
      logger,
      maxInFlight: 2 * Math.max(1, settings.evaluationThreads),
      isStopped: () => this.stopped,
      seek: (w, offset) => this.consumer?.seek({ topic: w.topic, partition: w.partition, offset }),
      discard: (w) => this.discardWorker(w),
      commitOrSchedule: (w) => this.commitOrSchedule(w),
      onMergeFailure: (w, err) => ignoreFailure(logger, 'committing an evaluated batch', { topic: w.topic, partition: w.partition })(err),
    });
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      fromBeginning: true,
      readCommitted: true,
      maxWaitTimeMs: settings.fetchMaxWaitMs,
      maxBytesPerPartition: settings.fetchMaxBytesPerPartition,
      maxBytes: 4 * settings.fetchMaxBytesPerPartition,
      partitionsConsumedConcurrently: settings.partitionConcurrency,
      sessionTimeoutMs: settings.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(100, Math.floor(settings.sessionTimeoutMs / 10)),
    });
    this.consumer.onAssignment((a) => this.onAssignment(a));
    this.consumer.onRebalancing(() => {
      this.hasAssignment = false;
      this.releaseWorkers();
    });
    // Includes fetches that returned only transaction markers, which never reach handleBatch:
    // with several producers writing one partition, its end can be a run of markers.
    this.consumer.onBatchEnd((p) => {
      const w = this.workers.get(workerId(p.topic, p.partition));
      if (w) void settled(w).then((worker) => worker && (worker.caughtUp = BigInt(p.next) >= BigInt(p.highWatermark)));
    });
    await this.consumer.connect();
    await this.consumer.subscribe([...this.inputTopics, this.topics.repartition]);
    await this.consumer.run((batch) => this.handleBatch(batch));
    const tick = Math.max(50, Math.min(1000, Math.floor(settings.idleTimeoutMs / 4)));
    this.idleTimer = setInterval(() => void this.advanceIdle(), tick);
    logger.info({ group: settings.groupId, inputs: this.inputTopics, ...this.topics }, 'pipeline started');
  }

  async stop(): Promise<void> {
    const { logger } = this.deps;
    this.stopped = true;
    this.abort.abort();
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.consumer?.disconnect().catch((err) => logger.warn({ err: errorMessage(err) }, 'consumer disconnect failed'));
    for (const w of this.workers.takeAll()) {
      const worker = await settled(w);
      if (!worker) continue;
      // What was evaluated since the last commit is committed now rather than evaluated again after the restart.
      const context = { topic: worker.topic, partition: worker.partition };
      await worker.exclusive(() => this.commit(worker)).catch(ignoreFailure(logger, 'committing on stop', context));
      await worker.exclusive(() => worker.close(logger));
    }
    await this.evaluation?.close();
    await this.admin?.disconnect().catch(ignoreFailure(logger, 'admin disconnect'));
  }

  /** Open windows and state keys across owned partitions (metrics). */
  async stateSummary(): Promise<{ openWindows: number; keys: number }> {
    let openWindows = 0;
    let keys = 0;
    for (const worker of await this.workers.started()) {
      if (worker.state) {
        openWindows += worker.state.openWindows();
        keys += worker.state.size;
      }
    }
    return { openWindows, keys };
  }

  private onAssignment(assigned: TopicPartition[]) {
    const { logger } = this.deps;
    const change = assignmentChange(this.workers.ids(), assigned, this.topics.repartition);
    for (const id of change.revoked) {
      void this.workers
        .take(id)!
        .then((worker) => worker.exclusive(() => worker.close(logger)))
        .catch(ignoreFailure(logger, 'closing the worker of a revoked partition', { worker: id }));
    }
    if (change.freshState.length > 0) this.openStateWorkers(change.freshState);
    // Input workers too, eagerly: whether they have a backlog decides if other partitions may count as idle.
    for (const a of change.freshInput) {
      void this.workerFor(a.topic, a.partition).catch(() => this.workers.take(workerId(a.topic, a.partition)));
    }
    this.hasAssignment = true;
    logger.info({ partitions: assigned.length }, 'partitions assigned');
  }

  private workerOptions(): OpenWorkerOptions {
    const { kafka, logger, settings } = this.deps;
    return {
      kafka,
      admin: this.admin!,
      logger,
      groupId: settings.groupId,
      transactionTimeoutMs: settings.transactionTimeoutMs,
      commitIntervalMs: settings.commitIntervalMs,
      onFlushDue: (w) => void w.exclusive(() => this.commit(w)).catch(ignoreFailure(logger, 'scheduled commit', { topic: w.topic, partition: w.partition })),
    };
  }

  private openStateWorkers(partitions: number[]) {
    const { kafka, logger, settings } = this.deps;
    const all = (async () => {
      const workers = await Promise.all(partitions.map((p) => openPartitionWorker(this.workerOptions(), this.topics.repartition, p)));
      const restore = { kafka, logger, groupId: settings.groupId, changelogTopic: this.topics.changelog, signal: this.abort.signal };
      await restoreWindowState(workers, this.index, restore);
      return workers;
    })();
    for (const p of partitions)
      this.workers.set(
        workerId(this.topics.repartition, p),
        all.then((ws) => ws.find((w) => w.partition === p)!),
      );
  }

  private workerFor(topic: string, partition: number): Promise<PartitionWorker> {
    const id = workerId(topic, partition);
    if (!this.workers.get(id)) {
      if (topic === this.topics.repartition) this.openStateWorkers([partition]);
      else this.workers.set(id, openPartitionWorker(this.workerOptions(), topic, partition));
    }
    return this.workers.get(id)!;
  }

  /**
   * The group is taking partitions back (a rebalance, or this member's session expired while the
   * broker was away): every worker goes, with what it had not committed, as in a crash. Whichever
   * member gets a partition reads it again from its committed offset with a new worker, whose
   * producer fences this one's. A worker kept instead would keep a transactional producer and a
   * transaction that lived through the group's loss, and could stall the partition behind it.
   * Closed directly, not behind the worker's queue, which a stalled commit would hold.
   */
  private releaseWorkers() {
    const { logger } = this.deps;
    for (const w of this.workers.takeAll()) {
      void settled(w).then((worker) => worker?.close(logger));
    }
  }

  /** After a failed transaction the partition's memory is ahead of what was committed: start it over. */
  private async discardWorker(worker: PartitionWorker) {
    await this.workers.forget(worker);
    await worker.close(this.deps.logger);
  }

  private async handleBatch(batch: MessageBatch): Promise<void> {
    if (this.stopped || batch.messages.length === 0) return;
    let worker: PartitionWorker;
    try {
      worker = await this.workerFor(batch.topic, batch.partition);
    } catch (err) {
      this.workers.take(workerId(batch.topic, batch.partition));
      throw err;
    }
    if (this.stopped || batch.isStale()) return;
    if (batch.topic !== this.topics.repartition) {
      const fresh = this.admit(worker, batch);
      if (fresh) await this.inputStage!.dispatch(worker, fresh);
      return;
    }
    await worker.exclusive(async () => {
      const fresh = this.admit(worker, batch);
      if (!fresh) return;
      const started = process.hrtime.bigint();
      worker.pending.begin(fresh);
      evaluateWindowBatch(worker, fresh.messages, this.pendingContext);
      worker.position = worker.pending.include(fresh);
      this.deps.metrics.batchDuration.observe({ stage: 'state' }, Number(process.hrtime.bigint() - started) / 1e9);
      await this.commitOrSchedule(worker);
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
    const admission = admitBatch(
      worker,
      batch.messages.map((m) => m.offset),
    );
    worker.checkedFirstBatch = true;
    if (admission.kind === 'seek') {
      const { topic, partition } = batch;
      const skipped = { topic, partition, from: batch.messages[0].offset, to: String(admission.offset) };
      this.deps.logger.info(skipped, 'skipping records committed by the previous owner');
      this.consumer!.seek({ topic, partition, offset: String(admission.offset) });
      return undefined;
    }
    if (admission.kind === 'skip') return undefined;
    return admission.from === 0 ? batch : { ...batch, messages: batch.messages.slice(admission.from) };
  }

  /** Only a partition with too much pending output waits for its commit; the others commit on their timer. */
  private async commitOrSchedule(worker: PartitionWorker) {
    if (worker.pending.full) await this.commit(worker);
    else worker.flushTimer.schedule(worker.pending.openedAt);
  }

  /**
   * One transaction with everything pending. On failure the partition's worker is discarded (its
   * memory is ahead of what was committed) and reading resumes at the first uncommitted offset.
   */
  private async commit(worker: PartitionWorker): Promise<void> {
    worker.flushTimer.cancel();
    if (worker.closed || worker.pending.empty) return;
    const { settings, metrics, consumerMetrics, logger } = this.deps;
    const pending = worker.takePending();
    const started = process.hrtime.bigint();
    if (worker.state) {
      const out = emptyOutput();
      worker.state.advance(out);
      this.addStateOutput(worker, out, pending);
    }
    const records = [...pending.records, ...pending.forwarded.records(this.topics.repartition)];
    if (worker.state) records.push(...worker.state.takeChangelog(this.topics.changelog, worker.partition));
    const offsets = pending.next === undefined ? [] : [{ topic: worker.topic, partition: worker.partition, offset: pending.next }];
    const context = { topic: worker.topic, partition: worker.partition };
    try {
      try {
        // A transaction that cannot even begin fails like one that cannot commit: the pending
        // results are gone, so the worker (its state and position past them) must go too, or the
        // records read again after the seek would be passed over as already seen.
        const t = await worker.producer.transaction();
        await commitTransaction(t, { records, offsets, groupId: settings.groupId }, ignoreFailure(logger, 'transaction abort', context));
        metrics.transactions.inc({ outcome: 'committed' });
      } catch (err) {
        metrics.transactions.inc({ outcome: 'aborted' });
        logger.warn({ ...context, err: errorMessage(err) }, 'transaction failed; the partition restarts from its last commit');
        await this.discardWorker(worker);
        throw err;
      }
    } catch (err) {
      if (pending.base !== undefined && !this.stopped) this.consumer?.seek({ ...context, offset: pending.base });
      throw err;
    }
    metrics.batchDuration.observe({ stage: 'commit' }, Number(process.hrtime.bigint() - started) / 1e9);
    pending.committed(metrics);
    if (pending.next !== undefined && pending.highWatermark !== undefined) {
      consumerMetrics.recordLag(settings.groupId, worker.topic, worker.partition, pending.highWatermark, pending.next);
    }
  }

  private addStateOutput(worker: PartitionWorker, out: StageOutput, pending = worker.pending) {
    pending.addStateOutput(out, worker.state!.changedKeys, this.pendingContext);
  }

  private async advanceIdle() {
    const started = await this.workers.started();
    const live = started.filter((w) => !w.closed);
    await advanceIdlePartitions(
      live.filter((w) => w.state),
      live.filter((w) => !w.state),
      {
        idleTimeoutMs: this.deps.settings.idleTimeoutMs,
        isStopped: () => this.stopped,
        addOutput: (w, out) => this.addStateOutput(w, out),
        commit: (w) => this.commit(w),
        onFailure: (w, err) => this.deps.logger.warn({ partition: w.partition, err: errorMessage(err) }, 'idle advance failed'),
      },
    );
  }
}
