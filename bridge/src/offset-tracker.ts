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
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly epoch: number;
}

interface PartitionState {
  epoch: number;
  /** Offsets handed out and not yet acknowledged. */
  pending: Set<bigint>;
  /**
   * Offsets handed out in this epoch, in the order handed out (so ascending), from `head` on.
   * Entries before the first pending one are dropped lazily: the head is the lowest pending offset.
   */
  order: bigint[];
  head: number;
  /** One past the highest offset handed out. */
  next: bigint;
  /** Last offset committed (or known committed) — the next to read. */
  committed?: bigint;
}

/** Drop acknowledged offsets from the front of `order`; returns the lowest pending offset. */
function lowestPending(s: PartitionState): bigint | undefined {
  while (s.head < s.order.length && !s.pending.has(s.order[s.head])) s.head++;
  if (s.head >= 1024 && s.head * 2 >= s.order.length) {
    s.order = s.order.slice(s.head);
    s.head = 0;
  }
  return s.head < s.order.length ? s.order[s.head] : undefined;
}

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionState>();
  private epochs = 0;

  private state(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(`${topic}\u0000${partition}`);
  }

  /** Registers an offset read from Kafka; returns the token to acknowledge it with. */
  track(topic: string, partition: number, offset: string): OffsetToken {
    const key = `${topic}\u0000${partition}`;
    const o = BigInt(offset);
    let s = this.partitions.get(key);
    if (!s || o < s.next) {
      // First sight of the partition, or a replay: start a new epoch at this offset.
      s = { epoch: ++this.epochs, pending: new Set(), order: [], head: 0, next: o, committed: s?.committed };
      this.partitions.set(key, s);
    }
    // Within an epoch offsets arrive ascending, so `order` stays sorted without sorting.
    s.pending.add(o);
    s.order.push(o);
    // A gap (compaction, transaction markers) between offsets is fine: nothing to wait for.
    s.next = o + 1n;
    return { topic, partition, offset: o, epoch: s.epoch };
  }

  /** The destination accepted the record (or it went to the DLQ, or the transform dropped it). */
  ack(token: OffsetToken): void {
    const s = this.state(token.topic, token.partition);
    if (!s || s.epoch !== token.epoch) return;
    s.pending.delete(token.offset);
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
    for (const s of this.partitions.values()) n += s.pending.size;
    return n;
  }

  /** Forgets partitions this consumer no longer owns. */
  retain(owned: Array<{ topic: string; partition: number }>): void {
    const keep = new Set(owned.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    for (const key of this.partitions.keys()) if (!keep.has(key)) this.partitions.delete(key);
  }
}
