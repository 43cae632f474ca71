/**
 * Handles each fetched batch of one partition: decides where the partition really stands (the
 * warehouse-stored offset, not Kafka's), skips what the warehouse already holds, decodes, sends
 * poison records to the dead-letter topic, and applies the rest in one warehouse transaction
 * with the offset. Kafka's committed offset is written afterwards, only as a hint for lag tools.
 */
import {
  retryWithBackoff,
  toDeadLetter,
  errorMessage,
  type Consumer,
  type IncomingMessage,
  type Logger,
  type MessageBatch,
  type Producer,
  type TopicPartition,
} from '@tideway/runtime';
import { decodeRecord, type DecodedChange, type DecodeOptions } from './decode';
import { RejectedRecord } from './errors';
import { offsetAfter, planBatch, type PartitionPosition } from './batch-plan';
import type { DwhLoaderMetrics } from './metrics';
import { isShapeError, type Warehouse } from './warehouse';

export interface BatchLoaderOptions extends DecodeOptions {
  groupId: string;
  batchMaxRows: number;
  dlqSuffix: string;
  retryMaxMs: number;
  service: string;
}

export interface BatchLoaderDeps {
  warehouse: Warehouse;
  dlqProducer: Producer;
  ensureDlqTopic(topic: string): Promise<void>;
  metrics: DwhLoaderMetrics;
  logger: Logger;
  signal: AbortSignal;
  /** Reports whether the warehouse currently takes writes (for /readyz). */
  setWarehouseReady(ready: boolean): void;
}

const tpKey = (topic: string, partition: number) => `${topic}:${partition}`;

/** Splits records into runs of at most `max`. */
export function chunkRecords<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += max) out.push(items.slice(i, i + max));
  return out;
}

export class BatchLoader {
  private readonly positions = new Map<string, PartitionPosition>();

  constructor(
    private readonly opts: BatchLoaderOptions,
    private readonly deps: BatchLoaderDeps,
  ) {}

  /**
   * After a rebalance every position is re-read from the warehouse, and the fetch position is
   * moved there: Kafka's committed offset is only a hint and may be ahead (e.g. the warehouse was
   * restored from a backup), and when it points at the end of the log no batch would ever arrive
   * to notice it.
   */
  onAssignment(assigned: TopicPartition[], consumer: Consumer): void {
    this.positions.clear();
    this.deps.logger.info({ assigned: assigned.map((a) => tpKey(a.topic, a.partition)) }, 'partitions assigned');
    void (async () => {
      for (const { topic, partition } of assigned) {
        const stored = await this.deps.warehouse.storedOffset(topic, partition);
        const key = tpKey(topic, partition);
        if (!this.positions.has(key)) this.positions.set(key, { expectedNext: stored, aligned: true });
        consumer.seek({ topic, partition, offset: stored.toString() });
      }
    })().catch((err) =>
      this.deps.logger.warn({ err: errorMessage(err) }, 'could not move to the warehouse-stored offsets after assignment; the first batch will'),
    );
  }

  /** `consumer` is the one that fetched the batch (seek and the offset hint go to it). */
  async handle(batch: MessageBatch, consumer: Consumer): Promise<void> {
    if (batch.messages.length === 0 || batch.isStale()) return;
    const { topic, partition } = batch;
    const key = tpKey(topic, partition);
    let pos = this.positions.get(key);
    if (!pos) {
      const stored = await this.withRetry(() => this.deps.warehouse.storedOffset(topic, partition), batch);
      pos = { expectedNext: stored, aligned: false };
      this.positions.set(key, pos);
    }
    for (;;) {
      const plan = planBatch(pos, batch.messages);
      pos.aligned = true;
      if (plan.kind === 'seek') {
        // Kafka's committed offset (a hint) is ahead of the warehouse: fetch from the warehouse's.
        this.deps.logger.info({ topic, partition, fetched: batch.messages[0].offset, stored: plan.offset.toString() }, 'moving to the warehouse-stored offset');
        consumer.seek({ topic, partition, offset: plan.offset.toString() });
        return;
      }
      if (plan.skipped > 0) this.deps.metrics.redeliveredSkipped.inc(plan.skipped);
      if (plan.kind === 'none') {
        if (plan.seek !== undefined) consumer.seek({ topic, partition, offset: plan.seek.toString() });
        return;
      }
      const fenced = await this.applyRecords(batch, consumer, pos, plan.records);
      if (!fenced) return;
      // Another loader moved this partition (a rebalance overlapped us): continue from its offset.
      this.deps.metrics.fenceConflicts.inc();
      if (!batch.isRunning() || batch.isStale()) return;
    }
  }

  /** Applies records in runs of DWH_BATCH_MAX_ROWS; returns true when fenced off. */
  private async applyRecords(batch: MessageBatch, consumer: Consumer, pos: PartitionPosition, records: IncomingMessage[]): Promise<boolean> {
    const { topic, partition } = batch;
    for (const run of chunkRecords(records, this.opts.batchMaxRows)) {
      const changes: DecodedChange[] = [];
      const rejected: Array<{ message: IncomingMessage; error: RejectedRecord }> = [];
      const byOffset = new Map<string, IncomingMessage>();
      for (const m of run) {
        byOffset.set(m.offset, m);
        const d = decodeRecord(m, this.opts);
        if (d.kind === 'change') changes.push(d.change);
        else if (d.kind === 'reject') rejected.push({ message: m, error: d.error });
      }
      const nextOffset = offsetAfter(run);
      const started = process.hrtime.bigint();
      const outcome = await this.withRetry(async () => {
        await this.deps.warehouse.ensureTables(changes);
        return this.deps.warehouse.apply({
          topic,
          partition,
          expectedNext: pos.expectedNext,
          nextOffset,
          changes,
          beforeCommit: async (refused) => {
            const all = [...rejected, ...refused.map((r) => ({ message: byOffset.get(r.change.offset)!, error: r.error }))];
            await this.deadLetter(all);
          },
        });
      }, batch);
      if (outcome.kind === 'fenced') {
        this.deps.logger.warn(
          { topic, partition, expected: pos.expectedNext.toString(), stored: outcome.stored.toString() },
          'partition offsets moved by another loader; continuing from the stored offset',
        );
        pos.expectedNext = outcome.stored;
        return true;
      }
      pos.expectedNext = nextOffset;
      this.observe(
        run,
        changes,
        outcome.rejected.map((r) => r.change.offset),
        started,
      );
      // Only a hint for lag tools: the warehouse holds the real position.
      consumer
        .commit([{ topic, partition, offset: nextOffset.toString() }])
        .catch((err) => this.deps.logger.debug({ err: errorMessage(err), topic, partition }, 'kafka offset commit (hint) failed'));
      this.deps.metrics.consumer.recordLag(this.opts.groupId, topic, partition, batch.highWatermark, nextOffset.toString());
      await batch.heartbeat();
    }
    return false;
  }

  private observe(run: IncomingMessage[], changes: DecodedChange[], refusedOffsets: string[], started: bigint): void {
    const m = this.deps.metrics;
    m.applySeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    m.batchSize.observe(run.length);
    const refused = new Set(refusedOffsets);
    for (const c of changes) if (!refused.has(c.offset)) m.rowsApplied.inc({ table: c.table, op: c.op });
    const oldest = Math.min(...run.map((r) => r.timestamp));
    if (Number.isFinite(oldest) && oldest > 0) m.endToEndLagSeconds.observe(Math.max(0, (Date.now() - oldest) / 1000));
  }

  private async deadLetter(items: Array<{ message: IncomingMessage; error: RejectedRecord }>): Promise<void> {
    if (items.length === 0) return;
    const out = [];
    for (const { message, error } of items) {
      const topic = `${message.topic}${this.opts.dlqSuffix}`;
      await this.deps.ensureDlqTopic(topic);
      out.push(toDeadLetter({ message, reason: error.reason, error: error.message, service: this.opts.service, topic }));
      this.deps.logger.warn(
        { topic: message.topic, partition: message.partition, offset: message.offset, reason: error.reason, error: error.message.slice(0, 300) },
        'record dead-lettered',
      );
    }
    await this.deps.dlqProducer.send(out);
    for (const { message, error } of items) this.deps.metrics.consumer.deadLettered.inc({ topic: message.topic, reason: error.reason });
  }

  /**
   * Retries warehouse work that failed for a reason that may pass (connection lost, table
   * dropped by hand) with backoff, heartbeating so the group keeps us. A rebalance surfaces as a
   * heartbeat error and ends the batch; so does shutdown.
   */
  private withRetry<T>(fn: () => Promise<T>, batch: MessageBatch): Promise<T> {
    const heartbeatErrors = new WeakSet<object>();
    return retryWithBackoff(
      async (attempt) => {
        if (attempt > 0) {
          try {
            await batch.heartbeat();
          } catch (err) {
            if (typeof err === 'object' && err !== null) heartbeatErrors.add(err);
            throw err;
          }
        }
        const r = await fn();
        this.deps.setWarehouseReady(true);
        return r;
      },
      {
        policy: { initialMs: 100, maxMs: this.opts.retryMaxMs, multiplier: 2 },
        signal: this.deps.signal,
        shouldRetry: (err) => !(typeof err === 'object' && err !== null && heartbeatErrors.has(err)) && batch.isRunning() && !batch.isStale(),
        onRetry: (err, attempt, delayMs) => {
          if (isShapeError(err)) this.deps.warehouse.forgetTables();
          else this.deps.setWarehouseReady(false);
          this.deps.metrics.applyRetries.inc();
          this.deps.logger.warn(
            { err: errorMessage(err), code: (err as { code?: string }).code, topic: batch.topic, partition: batch.partition, attempt, delayMs },
            'warehouse write failed; retrying',
          );
        },
      },
    );
  }
}
