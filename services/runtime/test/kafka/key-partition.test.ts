import { keyPartition, murmur2 } from '../../src/kafka/key-partition';
import { seededRandom } from '../../../../test-support/seeded-random';

// kafkajs's copy of the Java client's murmur2, as the reference.
const reference = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;

describe('keyPartition', () => {
  it.each([
    // Vectors from Apache Kafka's UtilsTest.testMurmur2.
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%s) = %d, as in Kafka', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('hashes every length and byte value as the Java client (kafkajs’s port as the reference)', () => {
    const random = seededRandom(20_261_203);
    for (let n = 0; n < 2_000; n++) {
      const bytes = Buffer.from(Array.from({ length: n % 67 }, () => Math.floor(random() * 256)));
      expect({ n, hash: murmur2(bytes) }).toEqual({ n, hash: reference(bytes) });
    }
  });

  it('puts string keys where the Java client does', () => {
    // Values from Kafka's own partitioner tests and kafkajs's: murmur2 of UTF-8 bytes.
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'key-1', 'policy:42', 'ünïcödé']) {
      for (const partitions of [1, 3, 7, 64]) expect(keyPartition(key, partitions)).toBe((reference(key) & 0x7fffffff) % partitions);
    }
  });
});
