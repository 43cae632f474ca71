/**
 * Produces change records to Kafka strictly in order: one `send` in flight at a time (so a
 * retried batch can never overtake a later one), batching whatever accumulated meanwhile.
 * Reports WAL positions as safe only once every record before them is acknowledged.
 */
import { retryWithBackoff, type Logger, type OutgoingMessage, type Producer } from '@tideway/runtime';
import { AckLedger } from './ack-ledger';
import type { Lsn } from './lsn';

export interface OrderedWriterOptions {
  /** Most records per `send`. */
  maxBatchRecords: number;
  /**
   * Most bytes (keys, values, headers) per `send`. The client puts a partition's share of a send
   * into one record batch, which the broker rejects above `message.max.bytes` (1 MiB by default).
   */
  maxBatchBytes: number;
  /** Records buffered (not yet acknowledged) before `waitForCapacity` blocks. */
  maxBufferedRecords: number;
  signal: AbortSignal;
  logger: Logger;
  /** A position whose records are all acknowledged. */
  onSafe(lsn: Lsn, commitTimesMs: number[]): void;
  onSendDone?(records: number, seconds: number): void;
  onSendFailed?(err: unknown): void;
  /**
   * Called once when a send (with the client's own retries) has not completed after
   * `stalledAfterMs`: Kafka is most likely unreachable although no error surfaced yet.
   */
  onSendStalled?(): void;
  stalledAfterMs?: number;
}

export class OrderedKafkaWriter {
  private readonly ledger = new AckLedger();
  private queue: OutgoingMessage[] = [];
  private sending = false;
  private sentUpTo = 0;
  private waiters: Array<() => void> = [];
  private failure: unknown;

  constructor(
    private readonly producer: Producer,
    private readonly opts: OrderedWriterOptions,
  ) {
    opts.signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  push(messages: OutgoingMessage[]): void {
    if (messages.length === 0) return;
    for (const m of messages) this.queue.push(m);
    this.ledger.append(messages.length);
    this.kick();
  }

  /** `lsn` is safe once every record pushed so far is acknowledged. */
  markSafeAfterPushed(lsn: Lsn, commitTimeMs?: number): void {
    this.ledger.mark(lsn, commitTimeMs);
    if (this.ledger.unacknowledged === 0) this.settle();
  }

  get buffered(): number {
    return this.ledger.unacknowledged;
  }

  /** Resolves when fewer than `maxBufferedRecords` records wait for acknowledgement. */
  async waitForCapacity(): Promise<void> {
    while (this.ledger.unacknowledged >= this.opts.maxBufferedRecords && !this.opts.signal.aborted) await this.nextProgress();
  }

  /** Resolves when every pushed record is acknowledged (or the writer is aborted). */
  async drain(): Promise<void> {
    while (this.ledger.unacknowledged > 0 && !this.opts.signal.aborted) await this.nextProgress();
  }

  private nextProgress(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private settle() {
    const safe = this.ledger.acknowledge(this.sentUpTo);
    if (safe) this.opts.onSafe(safe.lsn, safe.commitTimesMs);
  }

  private kick() {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    void this.sendLoop();
  }

  private async sendLoop() {
    try {
      while (this.queue.length > 0 && !this.opts.signal.aborted) {
        const count = batchLength(this.queue, this.opts.maxBatchRecords, this.opts.maxBatchBytes);
        const batch = count === this.queue.length ? this.queue : this.queue.slice(0, count);
        this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
        const started = process.hrtime.bigint();
        const onStalled = this.opts.onSendStalled;
        const stallTimer = onStalled ? setTimeout(() => onStalled(), this.opts.stalledAfterMs ?? 5000) : undefined;
        // Resending a batch after an error may duplicate records (at-least-once) but never reorders:
        // nothing after it is sent until it succeeds.
        try {
          await retryWithBackoff(() => this.producer.send(batch), {
            signal: this.opts.signal,
            onRetry: (err, attempt, delayMs) => {
              this.opts.onSendFailed?.(err);
              this.opts.logger.warn({ err, attempt, delayMs, records: batch.length }, 'Kafka send failed; retrying the same batch');
            },
          });
        } finally {
          clearTimeout(stallTimer);
        }
        this.opts.onSendDone?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
        this.sentUpTo += batch.length;
        this.settle();
        this.wake();
      }
    } catch (err) {
      // Only reached when aborted during a retry: the records stay unacknowledged.
      this.failure = err;
      this.wake();
    } finally {
      this.sending = false;
    }
  }
}

function sizeOf(v: string | Buffer | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? v.length : v.byteLength;
}

/** Approximate wire size of a record (string length counts UTF-16 units: close enough for a bound). */
export function recordSize(m: OutgoingMessage): number {
  let n = sizeOf(m.key) + sizeOf(m.value) + 24;
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + sizeOf(v) + 4;
  return n;
}

/** How many records from the head of `queue` go into one send: at least one, within both bounds. */
export function batchLength(queue: OutgoingMessage[], maxRecords: number, maxBytes: number): number {
  let bytes = 0;
  const limit = Math.min(queue.length, maxRecords);
  for (let i = 0; i < limit; i++) {
    bytes += recordSize(queue[i]);
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return limit;
}
