/**
 * Which Kafka offsets may be committed: per partition, up to (not including) the lowest offset
 * that the destination has not accepted yet. Records are acknowledged out of order (a key that
 * is being retried holds back only itself), so the commit point is the lowest gap, never the
 * highest acknowledged offset.
 *
 * When Kafka hands out an offset again that was already tracked (a rebalance made the consumer
 * start over from the committed offset), the partition starts a new epoch: acknowledgements of
 * the old epoch no longer move its commit point.
 */
import type { TopicPartitionOffset } from '@tideway/runtime';

export interface OffsetToken {
  readonly offset: bigint;
  /** The partition's state in the epoch the offset was handed out in, and the offset's place in it. */
  readonly state: PartitionState;
  readonly index: number;
}

export interface PartitionState {
  /**
   * Offsets handed out in this epoch, in the order handed out (so ascending), and whether each was
   * acknowledged. Entries before `head` are all acknowledged; `base` counts the entries dropped from
   * the front, so a token's index stays valid.
   */
  order: bigint[];
  acked: boolean[];
  head: number;
  base: number;
  /** Offsets handed out and not yet acknowledged. */
  pending: number;
  /** One past the highest offset handed out. */
  next: bigint;
  /** Last offset committed (or known committed) — the next to read. */
  committed?: bigint;
}

/** Skips acknowledged offsets at the front; returns the lowest pending offset. */
function lowestPending(s: PartitionState): bigint | undefined {
  while (s.head < s.order.length && s.acked[s.head]) s.head++;
  if (s.head >= 1024 && s.head * 2 >= s.order.length) {
    s.order = s.order.slice(s.head);
    s.acked = s.acked.slice(s.head);
    s.base += s.head;
    s.head = 0;
  }
  return s.head < s.order.length ? s.order[s.head] : undefined;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionState>();
  /** The partition of the last `track` (a batch's records are all of one partition). */
  private last?: { topic: string; partition: number; state: PartitionState };

  private state(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /** Registers an offset read from Kafka; returns the token to acknowledge it with. */
  track(topic: string, partition: number, offset: string): OffsetToken {
    const o = BigInt(offset);
    const last = this.last;
    let s = last !== undefined && last.topic === topic && last.partition === partition ? last.state : this.state(topic, partition);
    if (!s || o < s.next) {
      // First sight of the partition, or a replay: start a new epoch at this offset. Tokens of the
      // old epoch keep the old state, so their acknowledgements no longer move the commit point.
      s = { order: [], acked: [], head: 0, base: 0, pending: 0, next: o, committed: s?.committed };
      this.partitions.set(partitionKey(topic, partition), s);
    }
    if (s !== last?.state) this.last = { topic, partition, state: s };
    // Within an epoch offsets arrive ascending, so `order` stays sorted without sorting.
    const index = s.base + s.order.length;
    s.order.push(o);
    s.acked.push(false);
    s.pending++;
    // A gap (compaction, transaction markers) between offsets is fine: nothing to wait for.
    s.next = o + 1n;
    return { offset: o, state: s, index };
  }

  /** The destination accepted the record (or it went to the DLQ, or the transform dropped it). */
  ack(token: OffsetToken): void {
    const s = token.state;
    const i = token.index - s.base;
    // Below the front: acknowledged before and dropped already.
    if (i < 0 || s.acked[i]) return;
    s.acked[i] = true;
    s.pending--;
  }

  /** Next offset to read for one partition, if anything was tracked. */
  commitPoint(topic: string, partition: number): bigint | undefined {
    const s = this.state(topic, partition);
    if (!s) return undefined;
    return lowestPending(s) ?? s.next;
  }

  /** Offsets that moved since the last `markCommitted`. */
  committable(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [key, s] of this.partitions) {
      const [topic, p] = key.split('\u0000');
      const point = this.commitPoint(topic, Number(p));
      if (point !== undefined && (s.committed === undefined || point > s.committed)) out.push({ topic, partition: Number(p), offset: point.toString() });
    }
    return out;
  }

  markCommitted(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const s = this.state(o.topic, o.partition);
      if (s) {
        const v = BigInt(o.offset);
        if (s.committed === undefined || v > s.committed) s.committed = v;
      }
    }
  }

  /** Records handed out and not acknowledged yet, over all partitions. */
  pendingCount(): number {
    let n = 0;
    for (const s of this.partitions.values()) n += s.pending;
    return n;
  }

  /** Forgets partitions this consumer no longer owns. */
  retain(owned: Array<{ topic: string; partition: number }>): void {
    const keep = new Set(owned.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const key of this.partitions.keys()) if (!keep.has(key)) this.partitions.delete(key);
    this.last = undefined;
  }
}
