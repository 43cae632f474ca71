/**
 * Which WAL position is safe to confirm to the server, given how many records Kafka has
 * acknowledged. Records are numbered in the order they were produced; a position marked after
 * record n is safe once records 0..n-1 are all acknowledged. Pure.
 */
import type { Lsn } from './lsn';

export class AckLedger {
  private appended = 0;
  private acked = 0;
  private readonly marks: Array<{ upTo: number; lsn: Lsn; commitTimeMs?: number }> = [];
  private head = 0;

  /** Counts records handed to the producer; returns the sequence number after them. */
  append(count: number): number {
    this.appended += count;
    return this.appended;
  }

  /** `lsn` becomes safe once everything appended so far is acknowledged. */
  mark(lsn: Lsn, commitTimeMs?: number): void {
    this.marks.push({ upTo: this.appended, lsn, commitTimeMs });
  }

  /**
   * Records up to (excluding) sequence `upTo` are acknowledged. Returns the newest position that
   * became safe (if any) and the commit times of the transactions that became safe with it.
   */
  acknowledge(upTo: number): { lsn: Lsn; commitTimesMs: number[] } | undefined {
    if (upTo > this.appended) throw new Error(`acknowledged ${upTo} records but only ${this.appended} were appended`);
    this.acked = Math.max(this.acked, upTo);
    let safe: { lsn: Lsn; commitTimeMs?: number } | undefined;
    const commitTimesMs: number[] = [];
    while (this.head < this.marks.length && this.marks[this.head].upTo <= this.acked) {
      safe = this.marks[this.head++];
      if (safe.commitTimeMs !== undefined) commitTimesMs.push(safe.commitTimeMs);
    }
    if (this.head > 1024) {
      this.marks.splice(0, this.head);
      this.head = 0;
    }
    return safe ? { lsn: safe.lsn, commitTimesMs } : undefined;
  }

  get unacknowledged(): number {
    return this.appended - this.acked;
  }

  get appendedCount(): number {
    return this.appended;
  }
}
