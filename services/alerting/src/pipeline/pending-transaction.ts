/**
 * What a partition has evaluated since its last commit: the next transaction. Stage 1's results
 * and stage 2's window output gather here; metrics that count them are applied only once the
 * transaction is committed.
 */
import { toDeadLetter, type ConsumerMetrics, type IncomingMessage, type MessageBatch, type OutgoingMessage } from '@tideway/runtime';
import type { AlertingMetrics } from '../metrics';
import { alertMessage, AlertTally } from './alert';
import type { BatchEvaluation } from './batch-evaluation';
import type { StageOutput } from './partition-state';
import { RepartitionBundler } from './repartition-bundles';

export const SERVICE = 'alerting';
/** Pending output beyond this commits at once, whatever the interval (bounds memory). */
export const MAX_PENDING_BYTES = 2 * 1024 * 1024;

/** Roughly what a record costs in a record batch. */
export function approxSize(m: OutgoingMessage): number {
  let n = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + v.length;
  return n;
}

export interface PendingContext {
  alertsTopic: string;
  dlqSuffix: string;
  metrics: AlertingMetrics;
  consumerMetrics: ConsumerMetrics;
}

export class PendingTransaction {
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

  constructor(readonly openedAt = Date.now()) {}

  get empty(): boolean {
    return this.next === undefined && !this.stateTouched && this.records.length === 0;
  }

  /** Too much output to wait for the commit interval. */
  get full(): boolean {
    return this.bytes >= MAX_PENDING_BYTES;
  }

  /** A batch's records are about to join: if this transaction fails, reading resumes at the first one (or earlier). */
  begin(batch: MessageBatch): void {
    this.base ??= batch.messages[0].offset;
  }

  /** The batch is in this transaction: the offset to commit moves past it. Returns that offset. */
  include(batch: MessageBatch): bigint {
    const next = BigInt(batch.messages[batch.messages.length - 1].offset) + 1n;
    this.next = String(next);
    this.highWatermark = batch.highWatermark;
    return next;
  }

  /** Stage 1's result of a batch. */
  addInput(batch: MessageBatch, r: BatchEvaluation, ctx: PendingContext): void {
    const { metrics } = ctx;
    this.records.push(...r.alertRecords);
    for (const c of r.alertCounts) this.alerts.add(c.rule, c.severity, c.n);
    this.forwarded.addFragments(r.forwarded);
    this.bytes += r.bytes;
    for (const d of r.deadLetters) this.addDeadLetter(batch.messages[d.index], d.reason, d.error, ctx);
    // Only numbers are kept until the commit: the batch's records (and their buffers) can go now.
    const timestamps = batch.messages.map((m) => m.timestamp);
    const topic = batch.topic;
    this.afters.push(() => {
      metrics.eventsEvaluated.inc({ topic }, timestamps.length);
      for (const [rule, n] of r.evaluationErrors) metrics.evaluationErrors.inc({ rule }, n);
      const now = Date.now();
      for (const ts of timestamps) metrics.recordLatency.observe(Math.max(0, now - ts) / 1000);
    });
  }

  /** A record that cannot be evaluated goes to its topic's dead-letter topic with this transaction. */
  addDeadLetter(message: IncomingMessage, reason: string, error: string, ctx: PendingContext): void {
    this.records.push(toDeadLetter({ message, reason, error, service: SERVICE, topic: `${message.topic}${ctx.dlqSuffix}` }));
    ctx.consumerMetrics.deadLettered.inc({ topic: message.topic, reason });
  }

  /** Windows' results and late events; the changelog of `changedKeys` keys is taken at commit. */
  addStateOutput(out: StageOutput, changedKeys: number, ctx: PendingContext): void {
    const { metrics } = ctx;
    for (const a of out.alerts) {
      const rec = alertMessage(ctx.alertsTopic, a);
      this.records.push(rec);
      this.bytes += approxSize(rec);
      this.alerts.add(a.rule, a.severity);
    }
    for (const r of out.records) {
      this.records.push(r);
      this.bytes += approxSize(r);
    }
    this.bytes += 64 * changedKeys;
    this.afters.push(() => {
      for (const l of out.late) metrics.lateEvents.inc({ rule: l.rule });
      for (const s of out.suppressed) metrics.suppressed.inc({ rule: s.rule });
      for (const r of out.records) {
        const agg = r.headers?.['tideway.aggregation'];
        if (typeof agg === 'string') metrics.aggregationResults.inc({ aggregation: agg });
      }
    });
  }

  /** The transaction is committed: what it holds counts in metrics now. */
  committed(metrics: AlertingMetrics): void {
    for (const c of this.alerts.entries()) metrics.alerts.inc({ rule: c.rule, severity: c.severity }, c.n);
    for (const after of this.afters) after();
  }
}
