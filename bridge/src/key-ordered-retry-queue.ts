/**
 * The in-flight state of a route, per ordering key: the heart of "retries never reorder a key".
 *
 * Each key has a FIFO of records. Only the head of a key may be in flight, and only in one
 * request at a time: a batch takes at most one *unit* per key (one record, or with aggregation
 * a run of consecutive records that succeed or fail together). A unit that fails stays at the
 * head of its key, the key waits for its backoff, and the key's later records wait behind it;
 * every other key goes on. So a later record of a key is never sent before an earlier failed
 * record of that key has been accepted.
 *
 * Pure: time comes in as `now`, randomness through the backoff's injectable `random`.
 */
import { backoffDelayMs, type BackoffPolicy } from '@tideway/runtime';
import type { DlqReason } from './errors';

export interface QueuedEntry<T> {
  readonly key: string;
  /** Bytes this record costs in a request (data + partition key + framing). */
  readonly bytes: number;
  readonly payload: T;
  /** When it was enqueued (for delivery latency). */
  readonly enqueuedAt: number;
}

/** Records of one key that travel, and succeed or fail, together. */
export interface Unit<T> {
  readonly key: string;
  readonly entries: readonly QueuedEntry<T>[];
  readonly bytes: number;
  /** How many times this unit was already tried and failed. */
  readonly attempts: number;
}

export interface BatchLimits {
  maxUnits: number;
  maxBytes: number;
  /** Records per unit (1 = no aggregation) and bytes per unit. */
  unitMaxRecords: number;
  unitMaxBytes: number;
  /** Extra bytes a unit of this key costs on top of its records (aggregation framing). */
  unitOverheadBytes?: (key: string) => number;
  /** Rate limiting: false leaves the key ready but skips it in this batch. */
  admit?: (key: string, bytes: number, records: number) => boolean;
  /** For a unit `admit` refused: the earliest time (same clock as `now`) it may admit it. */
  admitAt?: (key: string, bytes: number, records: number) => number;
}

/**
 * A unit's answer: accepted; failed and to be retried; or refused for good (`rejected`: the key moves
 * on and the unit's records go to the dead-letter topic, e.g. a document OpenSearch cannot map).
 */
export type UnitOutcome = { ok: true; rejected?: { reason: DlqReason; error: string } } | { ok: false; code: string };

/** The outcome of every accepted unit (one shared object: a batch call answers hundreds at a time). */
export const ACCEPTED: UnitOutcome = Object.freeze({ ok: true });

/**
 * Per-record outcomes of a batch call (PutRecords, PutRecordBatch) whose answers come back in request
 * order, each with an optional ErrorCode. An answer count that does not match is a failed call.
 */
export function outcomesOfBatchCall(call: string, sent: number, answers: ReadonlyArray<{ ErrorCode?: string }>): UnitOutcome[] {
  if (answers.length !== sent) throw Object.assign(new Error(`${call} answered ${answers.length} results for ${sent} records`), { name: 'InternalFailure' });
  return answers.map((a) => (a.ErrorCode ? { ok: false, code: a.ErrorCode } : ACCEPTED));
}

interface KeyState<T> {
  entries: QueuedEntry<T>[];
  /** Index of the first entry not yet acknowledged (avoids O(n) shifts). */
  head: number;
  inFlight: number;
  attempts: number;
  notBefore: number;
}

export class KeyOrderedRetryQueue<T> {
  private readonly keys = new Map<string, KeyState<T>>();
  /** Keys whose head may be sent now (insertion order = fairness). */
  private readonly ready = new Set<string>();
  /** Keys waiting for their backoff. */
  private readonly waiting = new Set<string>();
  private queuedRecords = 0;
  private queuedBytes = 0;
  private refusedUntil?: number;

  constructor(
    private readonly backoff: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records not yet accepted (queued or in flight). */
  get size(): number {
    return this.queuedRecords;
  }

  /** Bytes not yet accepted (queued or in flight). */
  get bytes(): number {
    return this.queuedBytes;
  }

  enqueue(entry: QueuedEntry<T>): void {
    let s = this.keys.get(entry.key);
    if (!s) {
      s = { entries: [], head: 0, inFlight: 0, attempts: 0, notBefore: 0 };
      this.keys.set(entry.key, s);
    }
    s.entries.push(entry);
    this.queuedRecords++;
    this.queuedBytes += entry.bytes;
    if (s.inFlight === 0 && !this.waiting.has(entry.key)) this.ready.add(entry.key);
  }

  /** Earliest time a waiting key becomes ready (undefined: none waiting). */
  nextRetryAt(): number | undefined {
    let min: number | undefined;
    for (const k of this.waiting) {
      const t = this.keys.get(k)!.notBefore;
      if (min === undefined || t < min) min = t;
    }
    return min;
  }

  /**
   * After a `takeBatch` in which the rate limiter refused ready keys: the earliest time one of them
   * may be admitted (undefined: none refused, or the limiter cannot tell).
   */
  admissionAt(): number | undefined {
    return this.refusedUntil;
  }

  hasReady(now: number): boolean {
    this.promote(now);
    return this.ready.size > 0;
  }

  private promote(now: number): void {
    for (const k of this.waiting) {
      if (this.keys.get(k)!.notBefore <= now) {
        this.waiting.delete(k);
        this.ready.add(k);
      }
    }
  }

  /** Takes up to `limits` worth of units, at most one per key; they are in flight until `complete`. */
  takeBatch(now: number, limits: BatchLimits): Unit<T>[] {
    this.promote(now);
    this.refusedUntil = undefined;
    const units: Unit<T>[] = [];
    let total = 0;
    for (const key of this.ready) {
      if (units.length >= limits.maxUnits) break;
      const s = this.keys.get(key)!;
      const picked: QueuedEntry<T>[] = [];
      let bytes = limits.unitOverheadBytes ? limits.unitOverheadBytes(key) : 0;
      for (let i = s.head; i < s.entries.length && picked.length < limits.unitMaxRecords; i++) {
        const e = s.entries[i];
        // A record alone always forms a unit (oversized records are rejected before queueing).
        if (picked.length > 0 && bytes + e.bytes > limits.unitMaxBytes) break;
        picked.push(e);
        bytes += e.bytes;
      }
      if (total + bytes > limits.maxBytes) {
        if (units.length === 0) throw new Error(`a unit of ${bytes} bytes exceeds the request limit of ${limits.maxBytes}`);
        continue;
      }
      if (limits.admit && !limits.admit(key, bytes, 1)) {
        if (limits.admitAt) {
          const at = limits.admitAt(key, bytes, 1);
          if (this.refusedUntil === undefined || at < this.refusedUntil) this.refusedUntil = at;
        }
        continue;
      }
      this.ready.delete(key);
      s.inFlight = picked.length;
      units.push({ key, entries: picked, bytes, attempts: s.attempts });
      total += bytes;
    }
    return units;
  }

  /** Applies the destination's answer for each unit of a batch (same order as taken). */
  complete(units: readonly Unit<T>[], outcomes: readonly UnitOutcome[], now: number): void {
    if (units.length !== outcomes.length) throw new Error(`got ${outcomes.length} outcomes for ${units.length} units`);
    units.forEach((u, i) => {
      const o = outcomes[i];
      if (o.ok) this.accept(u);
      else this.retryLater(u, now);
    });
  }

  /** The whole request failed (throttling, 5xx, network): every unit goes back, in place. */
  failAll(units: readonly Unit<T>[], now: number): void {
    for (const u of units) this.retryLater(u, now);
  }

  private accept(u: Unit<T>): void {
    const s = this.keys.get(u.key)!;
    for (const e of u.entries) {
      this.queuedRecords--;
      this.queuedBytes -= e.bytes;
    }
    s.head += u.entries.length;
    s.inFlight = 0;
    s.attempts = 0;
    if (s.head >= s.entries.length) this.keys.delete(u.key);
    else {
      if (s.head > 1024) {
        s.entries = s.entries.slice(s.head);
        s.head = 0;
      }
      this.ready.add(u.key);
    }
  }

  private retryLater(u: Unit<T>, now: number): void {
    const s = this.keys.get(u.key)!;
    s.inFlight = 0;
    s.notBefore = now + backoffDelayMs(s.attempts, this.backoff, this.random);
    s.attempts++;
    this.waiting.add(u.key);
  }
}
