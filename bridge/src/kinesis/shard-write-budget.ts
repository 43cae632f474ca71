/**
 * Keeps writes within each shard's limits (1,000 records/s and 1 MiB/s per shard by default)
 * with one token bucket per shard, and adapts: a throttled shard's rate is halved, and it grows
 * back by a tenth of its limit per second of throttle-free writing (AIMD, as TCP does).
 * Pure: time comes in as `now` (ms).
 */
import { LIMITS } from '../limits';

export interface ShardRange {
  shardId: string;
  /** Inclusive hash key range, as Kinesis reports it. */
  start: bigint;
  end: bigint;
}

interface Bucket {
  /** Current allowed share of the shard limits, 0.05..1. */
  share: number;
  records: number;
  bytes: number;
  last: number;
  lastThrottle: number;
}

export class ShardWriteBudget {
  private shards: ShardRange[] = [];
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly recordsPerSecond: number = LIMITS.kinesis.shardRecordsPerSecond,
    private readonly bytesPerSecond: number = LIMITS.kinesis.shardBytesPerSecond,
  ) {}

  /** Replaces the shard map (open shards only). */
  setShards(shards: ShardRange[]): void {
    this.shards = [...shards].sort((a, b) => (a.start < b.start ? -1 : 1));
    for (const id of [...this.buckets.keys()]) if (!shards.some((s) => s.shardId === id)) this.buckets.delete(id);
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** The shard a partition-key hash maps to (undefined while the shard map is unknown). */
  shardFor(hash: bigint): string | undefined {
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.shards[mid];
      if (hash < s.start) hi = mid - 1;
      else if (hash > s.end) lo = mid + 1;
      else return s.shardId;
    }
    return undefined;
  }

  private bucket(shardId: string, now: number): Bucket {
    let b = this.buckets.get(shardId);
    if (!b) {
      b = { share: 1, records: this.recordsPerSecond, bytes: this.bytesPerSecond, last: now, lastThrottle: -Infinity };
      this.buckets.set(shardId, b);
    }
    const dt = Math.max(0, now - b.last) / 1000;
    if (dt > 0) {
      if (b.share < 1 && now - b.lastThrottle > 1000) b.share = Math.min(1, b.share + 0.1 * dt);
      // Capacity is one second of the current rate: short bursts, no long-term excess.
      b.records = Math.min(this.recordsPerSecond * b.share, b.records + this.recordsPerSecond * b.share * dt);
      b.bytes = Math.min(this.bytesPerSecond * b.share, b.bytes + this.bytesPerSecond * b.share * dt);
      b.last = now;
    }
    return b;
  }

  /** Takes budget for a write if the shard has it; an unknown shard is not limited. */
  tryTake(shardId: string | undefined, records: number, bytes: number, now: number): boolean {
    if (shardId === undefined) return true;
    const b = this.bucket(shardId, now);
    // A record bigger than the whole bucket still goes once the bucket is full.
    const fullBytes = this.bytesPerSecond * b.share;
    if (b.records < records || (b.bytes < bytes && b.bytes < fullBytes)) return false;
    b.records -= records;
    b.bytes -= bytes;
    return true;
  }

  /**
   * The earliest time `tryTake` may allow this write, at the shard's current rate (`now` when it
   * would allow it now). The rate only grows back, so the write never fits later than this.
   */
  availableAt(shardId: string | undefined, records: number, bytes: number, now: number): number {
    if (shardId === undefined) return now;
    const b = this.bucket(shardId, now);
    const recordRate = this.recordsPerSecond * b.share;
    const byteRate = this.bytesPerSecond * b.share;
    // As in tryTake: a record bigger than the whole bucket goes once the bucket is full.
    const neededBytes = Math.min(bytes, byteRate);
    const waitSeconds = Math.max(0, (records - b.records) / recordRate, (neededBytes - b.bytes) / byteRate);
    return now + Math.ceil(waitSeconds * 1000);
  }

  /** The destination said this shard is over its limit. */
  throttled(shardId: string | undefined, now: number): void {
    if (shardId === undefined) return;
    const b = this.bucket(shardId, now);
    if (now - b.lastThrottle > 200) b.share = Math.max(0.05, b.share / 2);
    b.lastThrottle = now;
    b.records = Math.min(b.records, 0);
    b.bytes = Math.min(b.bytes, 0);
  }

  /** Current share of the shard's limit (1 = full rate); for metrics and tests. */
  shareOf(shardId: string): number {
    return this.buckets.get(shardId)?.share ?? 1;
  }
}
