/**
 * The partition of a record key as Kafka's Java client computes it (its default partitioner):
 * murmur2 (seed 0x9747b28c) of the key bytes, made positive, modulo the partition count. librdkafka's
 * `murmur2_random` partitioner and kafkajs's default one agree with it. Pure.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** 32-bit murmur2 of the bytes, as a signed 32-bit integer (Java's `Utils.murmur2`). */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2] << 16;
  if (tail >= 2) h ^= data[whole + 1] << 8;
  if (tail >= 1) {
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition a key's records go to. For services that address a partition explicitly but must
 * agree with keyed sends (whichever client produced them, the Java client included).
 */
export function keyPartition(key: string | Buffer, partitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}
