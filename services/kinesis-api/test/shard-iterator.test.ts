import { randomBytes } from 'node:crypto';
import { seededRandom } from '../../../test-support/seeded-random';
import { ITERATOR_TTL_MS, MAX_ITERATOR_LENGTH, decodeShardIterator, encodeShardIterator, parseIteratorSecret } from '../src/shard-iterator';
import { kinesisErrorOf } from './kinesis-error';

const secret = Buffer.from('k'.repeat(32));
const T0 = Date.UTC(2014, 5, 10, 19, 42, 5);
const position = { stream: 'orders', partition: 3, offset: 1234n };

describe('shard iterators', () => {
  it('round-trip stream, shard, offset and issue time (random positions)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const name = Array.from({ length: 1 + random.int(128) }, () => random.pick([...'abcXYZ019_.-'])).join('');
      const p = { stream: name, partition: random.int(2 ** 31), offset: BigInt(random.int(2 ** 31)) * BigInt(random.int(2 ** 31)) };
      const token = encodeShardIterator(p, { secret, nowMs: T0 });
      expect(token.length).toBeLessThanOrEqual(MAX_ITERATOR_LENGTH);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeShardIterator(token, { secret, nowMs: T0 + random.int(ITERATOR_TTL_MS) })).toEqual({ ...p, issuedAtMs: T0 });
    }
  });

  it('stay valid for 5 minutes, then expire with Kinesis’s message', () => {
    const token = encodeShardIterator(position, { secret, nowMs: T0 });
    expect(decodeShardIterator(token, { secret, nowMs: T0 + ITERATOR_TTL_MS }).offset).toBe(1234n);
    const err = kinesisErrorOf(() => decodeShardIterator(token, { secret, nowMs: T0 + ITERATOR_TTL_MS + 307_000 }));
    expect(err.name).toBe('ExpiredIteratorException');
    expect(err.message).toBe(
      'Iterator expired. The iterator was created at time Tue Jun 10 19:42:05 UTC 2014 while right now it is Tue Jun 10 19:52:12 UTC 2014 which is further in the future than the tolerated delay of 300000 milliseconds.',
    );
  });

  it('expire after the given TTL when one is set', () => {
    const token = encodeShardIterator(position, { secret, nowMs: T0 });
    expect(decodeShardIterator(token, { secret, nowMs: T0 + 2000, ttlMs: 2000 }).offset).toBe(1234n);
    const err = kinesisErrorOf(() => decodeShardIterator(token, { secret, nowMs: T0 + 2001, ttlMs: 2000 }));
    expect(err.name).toBe('ExpiredIteratorException');
    expect(err.message).toContain('tolerated delay of 2000 milliseconds');
  });

  it('signed with another key are InvalidArgumentException', () => {
    const token = encodeShardIterator(position, { secret: randomBytes(32), nowMs: T0 });
    expect(kinesisErrorOf(() => decodeShardIterator(token, { secret, nowMs: T0 })).name).toBe('InvalidArgumentException');
  });

  it('with any byte changed are InvalidArgumentException, never another position', () => {
    const bytes = Buffer.from(encodeShardIterator(position, { secret, nowMs: T0 }), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] ^= 0x01;
      const err = kinesisErrorOf(() => decodeShardIterator(tampered.toString('base64url'), { secret, nowMs: T0 }));
      expect([i, err.name, err.message]).toEqual([i, 'InvalidArgumentException', 'Invalid ShardIterator.']);
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['too short', 'AAAA'],
    ['too long', 'A'.repeat(MAX_ITERATOR_LENGTH + 1)],
  ])('%s is InvalidArgumentException', (_what, token) => {
    expect(kinesisErrorOf(() => decodeShardIterator(token, { secret, nowMs: T0 })).name).toBe('InvalidArgumentException');
  });

  it('take a key of at least 32 bytes from the secret file', () => {
    expect(parseIteratorSecret(` ${'s'.repeat(32)}\n`)).toEqual(Buffer.from('s'.repeat(32)));
    expect(parseIteratorSecret('short')).toBeUndefined();
  });
});
