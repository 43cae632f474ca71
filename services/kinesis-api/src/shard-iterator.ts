/**
 * Shard iterators are stateless: the token itself carries the stream, the shard, the next offset
 * and when it was issued, signed with HMAC-SHA256 so a client cannot forge a position and any
 * instance holding the same key can serve it. They expire after 5 minutes, as Kinesis's do.
 * Pure: the clock and the key are given.
 *
 * Layout (base64url): version 1 byte | issued at, ms 8 | partition 4 | offset 8 | stream name | HMAC 32
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KinesisApiError, invalidArgument } from './errors';

export const ITERATOR_TTL_MS = 5 * 60_000;
/** Kinesis's limit on a ShardIterator member. */
export const MAX_ITERATOR_LENGTH = 512;
/** Shortest iterator key accepted from a file. */
export const MIN_SECRET_BYTES = 32;
const VERSION = 1;
const HEADER_BYTES = 1 + 8 + 4 + 8;
const MAC_BYTES = 32;

export interface IteratorPosition {
  readonly stream: string;
  readonly partition: number;
  /** The offset the next GetRecords reads from. */
  readonly offset: bigint;
}

export interface IssuedIterator extends IteratorPosition {
  readonly issuedAtMs: number;
}

export interface IteratorKey {
  readonly secret: Buffer;
  readonly nowMs: number;
  /** How long an iterator is valid. @default ITERATOR_TTL_MS */
  readonly ttlMs?: number;
}

function mac(secret: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function encodeShardIterator(position: IteratorPosition, key: IteratorKey): string {
  const name = Buffer.from(position.stream, 'utf8');
  const payload = Buffer.alloc(HEADER_BYTES + name.length);
  payload.writeUInt8(VERSION, 0);
  payload.writeBigUInt64BE(BigInt(Math.floor(key.nowMs)), 1);
  payload.writeUInt32BE(position.partition, 9);
  payload.writeBigInt64BE(position.offset, 13);
  name.copy(payload, HEADER_BYTES);
  return Buffer.concat([payload, mac(key.secret, payload)]).toString('base64url');
}

/** Java's Date.toString in UTC, which Kinesis's expiry message uses: `Tue Jun 10 19:42:05 UTC 2014`. */
function javaDate(ms: number): string {
  // toUTCString: `Tue, 10 Jun 2014 19:42:05 GMT`
  const [weekday, day, month, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}

const invalid = () => invalidArgument('Invalid ShardIterator.');

/** The position an iterator names: InvalidArgumentException when forged or mangled, ExpiredIteratorException once older than the TTL (5 minutes by default). */
export function decodeShardIterator(token: string, key: IteratorKey): IssuedIterator {
  if (token.length > MAX_ITERATOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < HEADER_BYTES + 1 + MAC_BYTES) throw invalid();
  const payload = bytes.subarray(0, bytes.length - MAC_BYTES);
  const expected = mac(key.secret, payload);
  if (!timingSafeEqual(expected, bytes.subarray(bytes.length - MAC_BYTES)) || payload.readUInt8(0) !== VERSION) throw invalid();
  const issuedAtMs = Number(payload.readBigUInt64BE(1));
  const position = {
    issuedAtMs,
    partition: payload.readUInt32BE(9),
    offset: payload.readBigInt64BE(13),
    stream: payload.subarray(HEADER_BYTES).toString('utf8'),
  };
  const ttlMs = key.ttlMs ?? ITERATOR_TTL_MS;
  if (key.nowMs - issuedAtMs > ttlMs) {
    throw new KinesisApiError(
      'ExpiredIteratorException',
      `Iterator expired. The iterator was created at time ${javaDate(issuedAtMs)} while right now it is ${javaDate(key.nowMs)} which is further in the future than the tolerated delay of ${ttlMs} milliseconds.`,
    );
  }
  return position;
}

/** The iterator key from the contents of KINESIS_API_ITERATOR_SECRET_FILE; undefined when it is too short to be a key. */
export function parseIteratorSecret(text: string): Buffer | undefined {
  const secret = Buffer.from(text.trim(), 'utf8');
  return secret.length >= MIN_SECRET_BYTES ? secret : undefined;
}
