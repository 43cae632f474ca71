import { seededRandom } from '../../../test-support/seeded-random';
import { kinesisErrorOf } from './kinesis-error';
import { SEQUENCE_NUMBER_LENGTH, decodeSequenceNumber, formatSequenceNumber, formatSequenceNumberAt, sequenceNumberOffset } from '../src/sequence-number';

const MAX_OFFSET = (1n << 63n) - 1n;

function randomPosition(random: ReturnType<typeof seededRandom>) {
  const partition = random.chance(0.2) ? random.pick([0, 1, 2 ** 31 - 1]) : random.int(10_000);
  const offset = random.chance(0.2) ? random.pick([0n, 1n, MAX_OFFSET]) : BigInt(random.int(2 ** 30)) * BigInt(random.int(2 ** 30) + 1);
  return { partition, offset };
}

describe('sequence numbers', () => {
  it('look like Kinesis’s: 56 decimal digits starting 49', () => {
    const seq = formatSequenceNumber({ partition: 3, offset: 42n });
    expect(seq).toHaveLength(56);
    expect(SEQUENCE_NUMBER_LENGTH).toBe(56);
    expect(seq).toMatch(/^49\d{54}$/);
    expect(seq).toBe('49' + '0000000003' + '42'.padStart(44, '0'));
  });

  it('round-trip to the exact partition and offset (random positions)', () => {
    const random = seededRandom(4);
    for (let i = 0; i < 5000; i++) {
      const position = randomPosition(random);
      expect(decodeSequenceNumber(formatSequenceNumber(position))).toEqual(position);
    }
  });

  it('increase with the offset within a shard, as numbers and as strings', () => {
    const random = seededRandom(5);
    for (let i = 0; i < 5000; i++) {
      const a = randomPosition(random);
      const b = { partition: a.partition, offset: random.chance(0.1) ? a.offset : BigInt(random.int(2 ** 30)) * 7919n };
      const [sa, sb] = [formatSequenceNumber(a), formatSequenceNumber(b)];
      const byOffset = Math.sign(Number(a.offset - b.offset));
      expect([Math.sign(Number(BigInt(sa) - BigInt(sb))), sa < sb ? -1 : sa > sb ? 1 : 0]).toEqual([byOffset, byOffset]);
    }
  });

  it('are the same from an offset given as text (random positions)', () => {
    const random = seededRandom(6);
    for (let i = 0; i < 5000; i++) {
      const p = randomPosition(random);
      expect(formatSequenceNumberAt(p.partition, p.offset.toString())).toBe(formatSequenceNumber(p));
    }
    for (const bad of ['', '-1', '1.5', '9223372036854775808', '12345678901234567890', ' 1']) expect(() => formatSequenceNumberAt(0, bad)).toThrow(RangeError);
    expect(() => formatSequenceNumberAt(2 ** 31, '0')).toThrow(RangeError);
  });

  it('refuse positions that cannot be encoded', () => {
    expect(() => formatSequenceNumber({ partition: -1, offset: 0n })).toThrow(RangeError);
    expect(() => formatSequenceNumber({ partition: 2 ** 31, offset: 0n })).toThrow(RangeError);
    expect(() => formatSequenceNumber({ partition: 0, offset: -1n })).toThrow(RangeError);
    expect(() => formatSequenceNumber({ partition: 0, offset: MAX_OFFSET + 1n })).toThrow(RangeError);
  });

  it.each([
    ['empty', ''],
    ['too short', '49000000000300000000000000000000000000000000000000000042'.slice(1)],
    ['too long', '490000000003000000000000000000000000000000000000000000421'],
    ['another prefix', '48' + '0'.repeat(54)],
    ['not digits', '49' + 'x'.repeat(54)],
    ['partition over 2^31-1', '49' + '9999999999' + '0'.repeat(44)],
    ['offset over 2^63-1', '49' + '0000000000' + '9'.repeat(44)],
  ])('decode rejects %s', (_what, text) => {
    expect(decodeSequenceNumber(text)).toBeUndefined();
  });

  describe('sequenceNumberOffset', () => {
    it('is the offset a sequence number of this shard names', () => {
      expect(sequenceNumberOffset(formatSequenceNumber({ partition: 2, offset: 99n }), 2, 'orders')).toBe(99n);
    });

    it('is InvalidArgumentException for garbage', () => {
      for (const text of ['abc', '12', '0', '49590338271490256608559692538361571095921575989136588898']) {
        const err = kinesisErrorOf(() => sequenceNumberOffset(text, 0, 'orders'));
        expect([err.name, err.message]).toEqual([
          'InvalidArgumentException',
          `StartingSequenceNumber ${text} used in GetShardIterator on shard shardId-000000000000 in stream orders is invalid.`,
        ]);
      }
    });

    it('is InvalidArgumentException naming both shards for another shard’s', () => {
      expect(() => sequenceNumberOffset(formatSequenceNumber({ partition: 1, offset: 5n }), 0, 'orders')).toThrow(
        'Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000',
      );
    });
  });
});
