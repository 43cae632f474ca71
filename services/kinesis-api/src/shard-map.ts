/**
 * Shards of a stream: shard i is partition i of the topic, and owns the i-th of n equal slices of
 * the 128-bit hash-key space, bounded as Kinesis bounds the shards of CreateStream
 * (start of shard i = floor(i · 2^128 / n)). A record goes to the shard whose slice holds the MD5
 * of its partition key (big-endian), or its ExplicitHashKey. Pure.
 */
import { hash } from 'node:crypto';
import { KinesisApiError, invalidArgument } from './errors';

export const HASH_SPACE = 1n << 128n;
export const MAX_HASH_KEY = HASH_SPACE - 1n;
/** Kinesis's own limit on shard ids, also how far a shard number may go here. */
const SHARD_ID_DIGITS = 12;
const SHARD_ID_PATTERN = /^shardId-(\d{12})$/;

export interface HashKeyRange {
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

function checkCount(shardCount: number): void {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count must be a positive integer, got ${shardCount}`);
}

function rangeStart(shard: number, shardCount: number): bigint {
  return (BigInt(shard) * HASH_SPACE) / BigInt(shardCount);
}

/** The hash-key range of one shard out of `shardCount`. */
export function shardRange(shard: number, shardCount: number): HashKeyRange {
  checkCount(shardCount);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) throw new RangeError(`shard ${shard} is not one of ${shardCount}`);
  return { startingHashKey: rangeStart(shard, shardCount), endingHashKey: rangeStart(shard + 1, shardCount) - 1n };
}

/** Every shard's range, in shard order. */
export function shardRanges(shardCount: number): HashKeyRange[] {
  checkCount(shardCount);
  return Array.from({ length: shardCount }, (_, i) => shardRange(i, shardCount));
}

/** The shard whose range holds `hashKey`. */
export function shardForHashKey(hashKey: bigint, shardCount: number): number {
  checkCount(shardCount);
  if (hashKey < 0n || hashKey > MAX_HASH_KEY) throw new RangeError(`hash key out of range: ${hashKey}`);
  // floor(h · n / 2^128) is the shard, or one before it when h sits exactly on a rounded-down boundary.
  let shard = Number((hashKey * BigInt(shardCount)) / HASH_SPACE);
  if (shard + 1 < shardCount && hashKey >= rangeStart(shard + 1, shardCount)) shard += 1;
  return shard;
}

/** MD5 of the partition key's UTF-8 bytes as a big-endian 128-bit integer, as Kinesis hashes it. */
export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt('0x' + hash('md5', partitionKey, 'hex'));
}

/** The hash key of a record: its ExplicitHashKey (already validated) or the MD5 of its partition key. */
export function recordHashKey(partitionKey: string, explicitHashKey?: string): bigint {
  return explicitHashKey === undefined ? partitionKeyHash(partitionKey) : parseExplicitHashKey(explicitHashKey);
}

/** The shard a record goes to. */
export function shardForRecord(partitionKey: string, shardCount: number, explicitHashKey?: string): number {
  if (explicitHashKey !== undefined) return shardForHashKey(parseExplicitHashKey(explicitHashKey), shardCount);
  return shardForDigest(hash('md5', partitionKey, 'buffer'), shardCount);
}

/** Per shard count, each shard's first hash key as 16 big-endian bytes (shard 0's omitted). */
const digestStarts = new Map<number, Buffer[]>();

function startsOf(shardCount: number): Buffer[] {
  let starts = digestStarts.get(shardCount);
  if (!starts) {
    checkCount(shardCount);
    starts = [];
    for (let i = 1; i < shardCount; i++) starts.push(Buffer.from(rangeStart(i, shardCount).toString(16).padStart(32, '0'), 'hex'));
    if (digestStarts.size < 64) digestStarts.set(shardCount, starts);
  }
  return starts;
}

/**
 * The shard whose range holds an MD5 digest, by comparing bytes with the shards' first keys: the
 * same answer as shardForHashKey, without turning every digest into a bigint.
 */
export function shardForDigest(digest: Buffer, shardCount: number): number {
  const starts = startsOf(shardCount);
  // The number of shard starts at or below the digest is its shard.
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid].compare(digest) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An ExplicitHashKey: a decimal integer in [0, 2^128 - 1]; InvalidArgumentException otherwise. */
export function parseExplicitHashKey(text: string): bigint {
  if (!/^(0|[1-9]\d{0,38})$/.test(text)) {
    throw invalidArgument(`Invalid ExplicitHashKey. ExplicitHashKey must be a decimal integer in the range [0, 2^128-1]. Specified value was ${text}`);
  }
  const value = BigInt(text);
  if (value > MAX_HASH_KEY) throw invalidArgument(`Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${text}`);
  return value;
}

/** `shardId-000000000007` for shard 7. */
export function shardId(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= 10 ** SHARD_ID_DIGITS) throw new RangeError(`not a shard number: ${shard}`);
  return `shardId-${String(shard).padStart(SHARD_ID_DIGITS, '0')}`;
}

/** The partition of a shard id of the stream; ResourceNotFoundException for a shard it does not have. */
export function parseShardId(id: string, stream: { name: string; shardCount: number; accountId: string }): number {
  const m = SHARD_ID_PATTERN.exec(id);
  const shard = m ? Number(m[1]) : -1;
  if (shard < 0 || shard >= stream.shardCount) {
    throw new KinesisApiError('ResourceNotFoundException', `Shard ${id} in stream ${stream.name} under account ${stream.accountId} does not exist`);
  }
  return shard;
}
