import { KINESIS_SHARD_RATES, ShardLimits } from '../src/limits';

const MIB = 1024 * 1024;

function clock(start = 1_000_000) {
  const c = { now: start, read: () => c.now };
  return c;
}

describe('ShardLimits', () => {
  it('admits 1,000 records a second to a shard, then refuses until time refills it', () => {
    const c = clock();
    const limits = new ShardLimits(KINESIS_SHARD_RATES, c.read);
    let admitted = 0;
    for (let i = 0; i < 1500; i++) if (limits.admitWrite('s/0', 10)) admitted++;
    expect(admitted).toBe(1000);
    c.now += 100;
    const more = Array.from({ length: 200 }, () => limits.admitWrite('s/0', 10)).filter(Boolean).length;
    expect(more).toBe(100);
  });

  it('admits 1 MiB a second of data and keys, and charges nothing for a refused record', () => {
    const c = clock();
    const limits = new ShardLimits(KINESIS_SHARD_RATES, c.read);
    expect(limits.admitWrite('s/0', MIB - 100)).toBe(true);
    expect(limits.admitWrite('s/0', 200)).toBe(false);
    expect(limits.admitWrite('s/0', 100)).toBe(true);
    expect(limits.admitWrite('s/0', 1)).toBe(false);
  });

  it('keeps shards apart', () => {
    const limits = new ShardLimits(KINESIS_SHARD_RATES, clock().read);
    expect(limits.admitWrite('s/0', MIB)).toBe(true);
    expect(limits.admitWrite('s/0', 1)).toBe(false);
    expect(limits.admitWrite('s/1', MIB)).toBe(true);
  });

  it('holds at most one second of rate, however long a shard was idle', () => {
    const c = clock();
    const limits = new ShardLimits({ ...KINESIS_SHARD_RATES, writeRecordsPerSecond: 10 }, c.read);
    c.now += 3_600_000;
    expect(Array.from({ length: 30 }, () => limits.admitWrite('s/0', 1)).filter(Boolean).length).toBe(10);
  });

  it('lets a record larger than a second’s worth through when the bucket is full, not never', () => {
    const c = clock();
    const limits = new ShardLimits({ ...KINESIS_SHARD_RATES, writeBytesPerSecond: 1000 }, c.read);
    expect(limits.admitWrite('s/0', 5000)).toBe(true);
    c.now += 4000;
    expect(limits.admitWrite('s/0', 1)).toBe(false);
    c.now += 2000;
    expect(limits.admitWrite('s/0', 1)).toBe(true);
  });

  it('lets a read run while the shard’s read budget is left, charging what it returned', () => {
    const c = clock();
    const limits = new ShardLimits(KINESIS_SHARD_RATES, c.read);
    expect(limits.admitRead('s/0')).toBe(true);
    limits.chargeRead('s/0', 5 * MIB);
    expect(limits.admitRead('s/0')).toBe(false);
    // 2 MiB - 5 MiB leaves a 3 MiB debt: 1.5 s at 2 MiB/s.
    c.now += 1500;
    expect(limits.admitRead('s/0')).toBe(false);
    c.now += 100;
    expect(limits.admitRead('s/0')).toBe(true);
  });

  it('does not drain when the clock steps back', () => {
    const c = clock();
    const limits = new ShardLimits({ ...KINESIS_SHARD_RATES, writeRecordsPerSecond: 2 }, c.read);
    expect(limits.admitWrite('s/0', 1)).toBe(true);
    c.now -= 10_000;
    expect(limits.admitWrite('s/0', 1)).toBe(true);
    expect(limits.admitWrite('s/0', 1)).toBe(false);
  });

  it('forgets shards idle long enough to be full again', () => {
    const c = clock();
    const limits = new ShardLimits(KINESIS_SHARD_RATES, c.read);
    limits.admitWrite('s/0', 10);
    limits.admitWrite('s/1', 10);
    limits.prune();
    expect(limits.trackedShards).toBe(2);
    c.now += 1000;
    limits.admitWrite('s/1', 10);
    limits.prune();
    expect(limits.trackedShards).toBe(1);
  });
});
