import { ShardWriteBudget } from '../../src/kinesis/shard-write-budget';

const MAX = (1n << 128n) - 1n;

describe('ShardWriteBudget', () => {
  const twoShards = () => {
    const b = new ShardWriteBudget(1000, 1024 * 1024);
    b.setShards([
      { shardId: 's1', start: MAX / 2n + 1n, end: MAX },
      { shardId: 's0', start: 0n, end: MAX / 2n },
    ]);
    return b;
  };

  it('maps hashes to shards by hash key range', () => {
    const b = twoShards();
    expect(b.shardFor(0n)).toBe('s0');
    expect(b.shardFor(MAX / 2n)).toBe('s0');
    expect(b.shardFor(MAX)).toBe('s1');
  });

  it('allows 1,000 records per second per shard, refilled over time', () => {
    const b = twoShards();
    let n = 0;
    while (b.tryTake('s0', 1, 10, 0)) n++;
    expect(n).toBe(1000);
    expect(b.tryTake('s1', 1, 10, 0)).toBe(true);
    expect(b.tryTake('s0', 1, 10, 100)).toBe(true); // 100 ms refill ≈ 100 records
  });

  it('limits bytes to 1 MiB per second per shard', () => {
    const b = twoShards();
    expect(b.tryTake('s0', 1, 1024 * 1024, 0)).toBe(true);
    expect(b.tryTake('s0', 1, 1, 0)).toBe(false);
  });

  it('halves a throttled shard and recovers after throttle-free time', () => {
    const b = twoShards();
    b.throttled('s0', 0);
    expect(b.shareOf('s0')).toBe(0.5);
    expect(b.tryTake('s0', 1, 1, 0)).toBe(false);
    b.throttled('s0', 500);
    expect(b.shareOf('s0')).toBe(0.25);
    b.tryTake('s0', 1, 1, 10_000);
    expect(b.shareOf('s0')).toBe(1);
    expect(b.shareOf('s1')).toBe(1);
  });

  it('says when a refused write will fit', () => {
    const b = twoShards();
    while (b.tryTake('s0', 1, 10, 0)) {
      // empty the records bucket
    }
    expect(b.availableAt('s0', 1, 10, 0)).toBe(1); // one record per millisecond
    expect(b.availableAt('s0', 50, 10, 0)).toBe(50);
    expect(b.tryTake('s0', 50, 10, 49)).toBe(false);
    expect(b.tryTake('s0', 50, 10, 50)).toBe(true);
    // A write bigger than the whole byte bucket goes once the bucket is full.
    expect(b.tryTake('s1', 1, 1024 * 1024, 0)).toBe(true);
    expect(b.availableAt('s1', 1, 4 * 1024 * 1024, 0)).toBe(1000);
    expect(b.tryTake('s1', 1, 4 * 1024 * 1024, 1000)).toBe(true);
    // After a throttle the shard refills at half the rate.
    b.throttled('s0', 2000);
    expect(b.availableAt('s0', 10, 10, 2000)).toBe(2020);
    expect(b.availableAt(undefined, 10, 10, 2000)).toBe(2000);
  });

  it('does not limit while the shard map is unknown', () => {
    const b = new ShardWriteBudget();
    expect(b.shardFor(5n)).toBeUndefined();
    for (let i = 0; i < 5000; i++) expect(b.tryTake(undefined, 1, 1000, 0)).toBe(true);
  });
});
