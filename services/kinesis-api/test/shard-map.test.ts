import { createHash } from 'node:crypto';
import { seededRandom } from '../../../test-support/seeded-random';
import {
  HASH_SPACE,
  MAX_HASH_KEY,
  parseExplicitHashKey,
  parseShardId,
  partitionKeyHash,
  shardForDigest,
  shardForHashKey,
  shardForRecord,
  shardId,
  shardRange,
  shardRanges,
} from '../src/shard-map';
import { kinesisErrorOf } from './kinesis-error';

const STREAM = { name: 'orders', shardCount: 3, accountId: '000000000000' };

function randomHashKey(random: () => number): bigint {
  let h = 0n;
  for (let i = 0; i < 4; i++) h = (h << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return h;
}

describe('shard ranges', () => {
  it('match what Kinesis gives 1, 2, 3 and 4 shards', () => {
    const decimal = (n: number) => shardRanges(n).map((r) => [r.startingHashKey.toString(), r.endingHashKey.toString()]);
    expect(decimal(1)).toEqual([['0', '340282366920938463463374607431768211455']]);
    expect(decimal(2)).toEqual([
      ['0', '170141183460469231731687303715884105727'],
      ['170141183460469231731687303715884105728', '340282366920938463463374607431768211455'],
    ]);
    expect(decimal(3)).toEqual([
      ['0', '113427455640312821154458202477256070484'],
      ['113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
      ['226854911280625642308916404954512140970', '340282366920938463463374607431768211455'],
    ]);
    expect(decimal(4).map(([s]) => s)).toEqual([
      '0',
      '85070591730234615865843651857942052864',
      '170141183460469231731687303715884105728',
      '255211775190703847597530955573826158592',
    ]);
  });

  it.each(Array.from({ length: 100 }, (_, i) => i + 1))('tile the hash-key space with no gap or overlap for %i shards', (n) => {
    const ranges = shardRanges(n);
    expect(ranges[0].startingHashKey).toBe(0n);
    expect(ranges[n - 1].endingHashKey).toBe(MAX_HASH_KEY);
    for (let i = 0; i < n; i++) {
      expect(ranges[i].startingHashKey <= ranges[i].endingHashKey).toBe(true);
      if (i > 0) expect(ranges[i].startingHashKey).toBe(ranges[i - 1].endingHashKey + 1n);
      // Equal slices: sizes differ by at most one.
      const size = ranges[i].endingHashKey - ranges[i].startingHashKey + 1n;
      expect(size === HASH_SPACE / BigInt(n) || size === HASH_SPACE / BigInt(n) + 1n).toBe(true);
    }
  });

  it('reject a shard count or shard out of range', () => {
    expect(() => shardRanges(0)).toThrow(RangeError);
    expect(() => shardRange(3, 3)).toThrow(RangeError);
  });
});

describe('shardForHashKey', () => {
  it('puts every hash key in exactly the one range that holds it (random keys and every boundary, 1..100 shards)', () => {
    const random = seededRandom(16);
    for (let n = 1; n <= 100; n++) {
      const ranges = shardRanges(n);
      const keys = [
        0n,
        MAX_HASH_KEY,
        ...ranges.flatMap((r) => [r.startingHashKey, r.endingHashKey]),
        ...Array.from({ length: 50 }, () => randomHashKey(random)),
      ];
      for (const key of keys) {
        const holders = ranges.flatMap((r, i) => (r.startingHashKey <= key && key <= r.endingHashKey ? [i] : []));
        expect(holders).toHaveLength(1);
        expect([n, key, shardForHashKey(key, n)]).toEqual([n, key, holders[0]]);
      }
    }
  });

  it('gives the same shard for a digest compared as bytes (every boundary, its neighbours, random digests, 1..100 shards)', () => {
    const random = seededRandom(17);
    const digestOf = (key: bigint) => Buffer.from(key.toString(16).padStart(32, '0'), 'hex');
    for (let n = 1; n <= 100; n++) {
      const keys = [
        0n,
        MAX_HASH_KEY,
        ...shardRanges(n).flatMap((r) => [r.startingHashKey, r.endingHashKey, r.startingHashKey + 1n, r.endingHashKey > 0n ? r.endingHashKey - 1n : 0n]),
        ...Array.from({ length: 50 }, () => randomHashKey(random)),
      ];
      for (const key of keys) expect([n, key, shardForDigest(digestOf(key), n)]).toEqual([n, key, shardForHashKey(key, n)]);
    }
  });

  it('rejects keys outside the 128-bit space', () => {
    expect(() => shardForHashKey(-1n, 2)).toThrow(RangeError);
    expect(() => shardForHashKey(HASH_SPACE, 2)).toThrow(RangeError);
  });
});

describe('a record’s shard', () => {
  it('is the range holding the MD5 of its partition key, read big-endian', () => {
    expect(partitionKeyHash('')).toBe(BigInt('0xd41d8cd98f00b204e9800998ecf8427e'));
    const key = 'customer-42';
    const md5 = BigInt('0x' + createHash('md5').update(key).digest('hex'));
    expect(partitionKeyHash(key)).toBe(md5);
    // MD5('') = d41d8c… lies in the upper half of the space, MD5('a') = 0cc175… in the lower.
    expect(shardForRecord('', 2)).toBe(1);
    expect(partitionKeyHash('a') < 1n << 127n).toBe(true); // 0cc175b9…
    expect(shardForRecord('a', 2)).toBe(0);
  });

  it('hashes the UTF-8 bytes of the key', () => {
    expect(partitionKeyHash('é')).toBe(BigInt('0x' + createHash('md5').update(Buffer.from('é', 'utf8')).digest('hex')));
  });

  it('follows an ExplicitHashKey instead of the partition key', () => {
    expect(shardForRecord('', 2, '0')).toBe(0);
    expect(shardForRecord('a', 2, '170141183460469231731687303715884105728')).toBe(1);
    expect(shardForRecord('a', 2, '170141183460469231731687303715884105727')).toBe(0);
  });
});

describe('parseExplicitHashKey', () => {
  it('accepts decimal integers in [0, 2^128 - 1]', () => {
    expect(parseExplicitHashKey('0')).toBe(0n);
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
  });

  it.each(['', '-1', '01', '1.5', 'abc', ' 1', HASH_SPACE.toString(), '9'.repeat(40)])('rejects %j with InvalidArgumentException', (text) => {
    const err = kinesisErrorOf(() => parseExplicitHashKey(text));
    expect(err.name).toBe('InvalidArgumentException');
    expect(err.message).toContain('ExplicitHashKey');
  });
});

describe('shard ids', () => {
  it('are shardId- and 12 digits', () => {
    expect(shardId(0)).toBe('shardId-000000000000');
    expect(shardId(123)).toBe('shardId-000000000123');
    expect(() => shardId(-1)).toThrow(RangeError);
    expect(() => shardId(1e12)).toThrow(RangeError);
  });

  it('parse back to the partition', () => {
    for (let i = 0; i < STREAM.shardCount; i++) expect(parseShardId(shardId(i), STREAM)).toBe(i);
  });

  it.each(['shardId-000000000003', 'shardId-3', 'shardId-0000000000001', 'shard-000000000000', 'shardId-00000000000x'])(
    '%s of a 3-shard stream is ResourceNotFoundException',
    (id) => {
      const err = kinesisErrorOf(() => parseShardId(id, STREAM));
      expect(err.name).toBe('ResourceNotFoundException');
      expect(err.message).toBe(`Shard ${id} in stream orders under account 000000000000 does not exist`);
    },
  );
});
