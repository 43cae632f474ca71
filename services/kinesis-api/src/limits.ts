/**
 * Optional per-shard throughput limits, as Kinesis enforces them: token buckets refilled at the
 * configured rate and holding at most one second of it. A write is admitted record by record
 * (so PutRecords can fail some records and not others); a read is admitted while the shard's read
 * budget is not exhausted and then charged what it returned, so one large read may overdraw it and
 * the following ones wait. Pure: the clock is given.
 */

export interface ShardLimitRates {
  readonly writeBytesPerSecond: number;
  readonly writeRecordsPerSecond: number;
  readonly readBytesPerSecond: number;
}

/** Kinesis's per-shard limits. */
export const KINESIS_SHARD_RATES: ShardLimitRates = { writeBytesPerSecond: 1024 * 1024, writeRecordsPerSecond: 1000, readBytesPerSecond: 2 * 1024 * 1024 };

class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = perSecond;
    this.atMs = nowMs;
  }

  refill(nowMs: number): void {
    // A clock that steps back refills nothing rather than draining.
    const elapsed = Math.max(0, nowMs - this.atMs);
    this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
    this.atMs = Math.max(this.atMs, nowMs);
  }

  /** Enough for `amount`, or full: a request larger than one second's worth is let through once the bucket is full, not never. */
  has(amount: number): boolean {
    return this.tokens >= amount || this.full;
  }

  get full(): boolean {
    return this.tokens >= this.perSecond;
  }

  get positive(): boolean {
    return this.tokens > 0;
  }

  take(amount: number): void {
    this.tokens -= amount;
  }
}

interface ShardBuckets {
  writeBytes: TokenBucket;
  writeRecords: TokenBucket;
  readBytes: TokenBucket;
}

export class ShardLimits {
  private readonly shards = new Map<string, ShardBuckets>();

  constructor(
    private readonly rates: ShardLimitRates,
    private readonly nowMs: () => number,
  ) {}

  private buckets(shard: string): ShardBuckets {
    const now = this.nowMs();
    let b = this.shards.get(shard);
    if (!b) {
      b = {
        writeBytes: new TokenBucket(this.rates.writeBytesPerSecond, now),
        writeRecords: new TokenBucket(this.rates.writeRecordsPerSecond, now),
        readBytes: new TokenBucket(this.rates.readBytesPerSecond, now),
      };
      this.shards.set(shard, b);
    }
    b.writeBytes.refill(now);
    b.writeRecords.refill(now);
    b.readBytes.refill(now);
    return b;
  }

  /** Admits one record of `bytes` (data + partition key) to `shard` and charges it, or refuses it and charges nothing. */
  admitWrite(shard: string, bytes: number): boolean {
    const b = this.buckets(shard);
    if (!b.writeBytes.has(bytes) || !b.writeRecords.has(1)) return false;
    b.writeBytes.take(bytes);
    b.writeRecords.take(1);
    return true;
  }

  /** Whether a GetRecords on `shard` may run now. */
  admitRead(shard: string): boolean {
    return this.buckets(shard).readBytes.positive;
  }

  /** Charges what a GetRecords returned. */
  chargeRead(shard: string, bytes: number): void {
    this.buckets(shard).readBytes.take(bytes);
  }

  /** Drops the state of shards idle long enough to be full again (they behave the same when next seen). */
  prune(): void {
    const now = this.nowMs();
    for (const [shard, b] of this.shards) {
      b.writeBytes.refill(now);
      b.writeRecords.refill(now);
      b.readBytes.refill(now);
      if (b.writeBytes.full && b.writeRecords.full && b.readBytes.full) this.shards.delete(shard);
    }
  }

  get trackedShards(): number {
    return this.shards.size;
  }
}
