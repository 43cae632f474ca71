/**
 * Drives a KeyOrderedRetryQueue against a destination API: takes batches while fewer than
 * `maxInFlight` requests are out, applies per-unit answers, and puts whole failed calls back
 * with backoff. Shared by the kinesis, firehose and opensearch sinks; the API call itself is theirs.
 */
import { sleep, type BackoffPolicy, type Logger } from '@tideway/runtime';
import { awsErrorCode, errorCodeLabel, isThrottling, needsOperator } from './errors';
import { KeyOrderedRetryQueue, type BatchLimits, type Unit, type UnitOutcome } from './key-ordered-retry-queue';
import type { BridgeMetrics } from './metrics';
import type { BridgeRecord, RecordOutcomes } from './sink';

/** When the rate limiter refused every ready key and cannot say until when: look again after this. */
const ADMISSION_RECHECK_MS = 20;

export interface BatchSenderOptions {
  route: string;
  maxInFlight: number;
  backoff: BackoffPolicy;
  logger: Logger;
  metrics: BridgeMetrics;
  outcomes: RecordOutcomes;
  limits: () => BatchLimits;
  /** Sends one request; resolves with one outcome per unit, throws when the whole call failed. */
  send: (units: readonly Unit<BridgeRecord>[]) => Promise<UnitOutcome[]>;
  /** A unit came back throttled (e.g. to slow its shard down). */
  onThrottled?: (unit: Unit<BridgeRecord>, now: number) => void;
  now?: () => number;
}

export class BatchSender {
  readonly queue: KeyOrderedRetryQueue<BridgeRecord>;
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  /** When the pending timer fires. */
  private timerAt = Infinity;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly o: BatchSenderOptions) {
    this.queue = new KeyOrderedRetryQueue<BridgeRecord>(o.backoff);
    this.now = o.now ?? Date.now;
  }

  /** Call after enqueueing. */
  pump(): void {
    if (this.closed) return;
    while (this.inFlight < this.o.maxInFlight) {
      const now = this.now();
      if (!this.queue.hasReady(now)) break;
      const units = this.queue.takeBatch(now, this.o.limits());
      if (units.length === 0) {
        // Ready keys exist but the rate limiter said no: look again when it will admit one.
        this.schedule(this.queue.admissionAt() ?? now + ADMISSION_RECHECK_MS);
        break;
      }
      this.inFlight++;
      void this.dispatch(units);
    }
    const retryAt = this.queue.nextRetryAt();
    if (retryAt !== undefined) this.schedule(retryAt);
    if (this.queue.size === 0 && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Pumps again at `at`; the earliest of several wishes wins (a later one must not hold back an earlier one). */
  private schedule(at: number): void {
    if (this.timer) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(1, at - this.now()),
    );
  }

  private async dispatch(units: Unit<BridgeRecord>[]): Promise<void> {
    const { route, metrics, outcomes, logger } = this.o;
    const records = units.reduce((n, u) => n + u.entries.length, 0);
    metrics.batchRecords.observe({ route }, units.length);
    let answers: UnitOutcome[] | undefined;
    try {
      answers = await this.o.send(units);
    } catch (err) {
      const code = awsErrorCode(err);
      const label = errorCodeLabel(code);
      metrics.retries.inc({ route, error_code: label }, records);
      if (isThrottling(code)) {
        metrics.throttles.inc({ route });
        for (const u of units) this.o.onThrottled?.(u, this.now());
      }
      if (needsOperator(code)) outcomes.destinationHealthy(false, `${code}: ${(err as Error).message}`);
      logger.warn(
        { route, errorCode: code, err: needsOperator(code) ? err : undefined, units: units.length },
        'request failed as a whole; retrying with backoff',
      );
      this.queue.failAll(units, this.now());
    }
    if (answers) {
      const delivered: BridgeRecord[] = [];
      answers.forEach((a, i) => {
        const u = units[i];
        if (a.ok && a.rejected) for (const e of u.entries) outcomes.deadLetter(e.payload, a.rejected.reason, a.rejected.error);
        else if (a.ok) for (const e of u.entries) delivered.push(e.payload);
        else {
          metrics.retries.inc({ route, error_code: errorCodeLabel(a.code) }, u.entries.length);
          if (isThrottling(a.code)) {
            metrics.throttles.inc({ route });
            this.o.onThrottled?.(u, this.now());
          }
        }
      });
      this.queue.complete(units, answers, this.now());
      outcomes.destinationHealthy(true);
      if (delivered.length > 0) outcomes.delivered(delivered);
    }
    this.inFlight--;
    // The request was answered (or failed) and its accepted records left the queue.
    outcomes.bufferShrunk();
    this.pump();
  }

  /** Bytes queued or in flight. */
  get bytes(): number {
    return this.queue.bytes;
  }

  /** Resolves once nothing is queued or in flight (or the signal aborts). */
  async drain(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && (this.queue.size > 0 || this.inFlight > 0)) {
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), sleep(500, signal)]);
      this.pump();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
