/**
 * Chooses a record's Kinesis partition key. One Kafka key always gives the same partition key,
 * so it always lands on the same shard.
 */
import { createHash, randomUUID } from 'node:crypto';
import { getPath } from '@tideway/runtime';
import { LIMITS } from './limits';
import type { PartitionKeySpec } from './routes';

export interface KeySource {
  topic: string;
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
}

export function md5Hex(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/**
 * A record without a key (or without the field) keeps its Kafka partition's order by using
 * `<topic>-<partition>` as the key. Keys longer than Kinesis allows are replaced by their MD5,
 * which keeps "same key, same shard".
 */
export function partitionKeyFor(spec: PartitionKeySpec, rec: KeySource, random: () => string = randomUUID): string {
  const fallback = `${rec.topic}-${rec.partition}`;
  let key: string;
  switch (spec.kind) {
    case 'random':
      return random();
    case 'hash':
      return rec.key && rec.key.length > 0 ? md5Hex(rec.key) : fallback;
    case 'key':
      key = rec.key && rec.key.length > 0 ? rec.key.toString('utf8') : fallback;
      break;
    case 'field': {
      const v = fieldValue(rec.value, spec.path);
      key = v === undefined || v === '' ? fallback : v;
      break;
    }
  }
  return [...key].length > LIMITS.kinesis.maxPartitionKeyLength ? md5Hex(key) : key;
}

function fieldValue(value: Buffer | null, path: string): string | undefined {
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const v = getPath(parsed, path);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The 128-bit hash Kinesis maps a partition key to a shard with. */
export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${md5Hex(Buffer.from(partitionKey, 'utf8'))}`);
}
