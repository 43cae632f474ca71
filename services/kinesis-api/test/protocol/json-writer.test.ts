import {
  CHUNK_BYTES,
  ChunkPool,
  collectStreamed,
  Deferred,
  encodeJson,
  hasStreamed,
  jsonLength,
  StreamedList,
  streamJson,
} from '../../src/protocol/json-writer';
import { seededRandom } from '../../../../test-support/seeded-random';
import { batches, checkingSink, getRecordsAnswer, randomStreamedAnswer, randomValue, reference } from './answers';

describe('encodeJson', () => {
  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['scalars', { s: 'x', n: 1.5, i: 42, neg: -0, big: 2 ** 60, t: true, f: false, nul: null, inf: Infinity, nan: NaN }],
    ['undefined members left out, undefined items as null', { a: undefined, b: [1, undefined, 2], c: 'kept' }],
    ['escapes and text beyond ASCII', { 'k"\\\n': 'q"\\/\t\u0001\u2028é€😀', lone: '\ud800x', key: 'Schlüssel' }],
    ['blobs as base64 and timestamps as epoch seconds', { Data: Buffer.from('hi'), Empty: Buffer.alloc(0), At: new Date(1_700_000_000_123) }],
    ['a blob that is a view into a larger buffer', { Data: Buffer.from('0123456789').subarray(3, 7) }],
    ['a Uint8Array blob', { Data: new Uint8Array([0, 255, 1]) }],
    ['nested objects and arrays', { a: [[], [{}], [{ b: [null, 'c'] }]], d: { e: { f: [1, 2, 3] } } }],
  ])('writes %s as JSON.stringify does', (_name, value) => {
    expect(encodeJson(value).toString('utf8')).toBe(reference(value).toString('utf8'));
  });

  it('writes a GetRecords answer of 10 MiB (many pieces, multi-byte partition keys) byte for byte', () => {
    const random = seededRandom(16);
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      SequenceNumber: String(10n ** 40n + BigInt(i)),
      ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + i),
      Data: Buffer.from(Array.from({ length: 1 + Math.floor(random() * 2048) }, () => Math.floor(random() * 256))),
      PartitionKey: i % 3 === 0 ? `clé-${i}-€` : `key-${i}`,
    }));
    const answer = { Records: records, NextShardIterator: 'AAAA', MillisBehindLatest: 0 };
    const body = encodeJson(answer);
    expect(body.equals(reference(answer))).toBe(true);
    expect(JSON.parse(body.toString('utf8')).Records).toHaveLength(10_000);
  });
});

describe('jsonLength', () => {
  it('is the byte length of encodeJson for 300 random answers', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const value = { A: randomValue(seededRandom(seed)), B: [randomValue(seededRandom(seed + 1000))] };
      expect([seed, jsonLength(value)]).toEqual([seed, encodeJson(value).length]);
    }
  });

  it('counts base64 of every length and text beyond ASCII', () => {
    for (let n = 0; n < 10; n++) expect(jsonLength({ D: Buffer.alloc(n, 7) })).toBe(encodeJson({ D: Buffer.alloc(n, 7) }).length);
    const value = { k: 'é€😀\ud800\u2028"\\', [`clé`]: ['\u0000'] };
    expect(jsonLength(value)).toBe(reference(value).length);
  });
});

describe('streamJson', () => {
  it('writes what encodeJson writes, and no chunk changes before it was sent, over 200 random answers', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const value = seed % 10 === 0 ? getRecordsAnswer(300, seed) : { Records: [randomValue(random), randomValue(random)], Other: randomValue(random) };
      const pool = new ChunkPool(4);
      const { sink, written, finish, corrupted } = checkingSink(random);
      await expect(streamJson(value, sink, pool)).resolves.toBe(true);
      finish();
      expect([seed, corrupted()]).toEqual([seed, 0]);
      expect([seed, Buffer.concat(written).equals(encodeJson(value))]).toEqual([seed, true]);
    }
  });

  it('writes a whole answer that is not an object (a list, text) too', async () => {
    for (const value of [[1, 'two', Buffer.from('3')], 'text', 42, null]) {
      const { sink, written, finish } = checkingSink(seededRandom(3));
      await expect(streamJson(value, sink, new ChunkPool(2))).resolves.toBe(true);
      finish();
      expect(Buffer.concat(written).equals(encodeJson(value))).toBe(true);
    }
  });

  it('sends a 10 MiB GetRecords answer through a few reused chunks, not 40 new ones', async () => {
    const value = getRecordsAnswer(10_000, 16);
    const pool = new ChunkPool(8);
    const { sink, written, finish, corrupted } = checkingSink(seededRandom(5));
    await expect(streamJson(value, sink, pool)).resolves.toBe(true);
    finish();
    expect(corrupted()).toBe(0);
    expect(Buffer.concat(written).equals(reference(value))).toBe(true);
    expect(written.length).toBeGreaterThan(40);
    expect(pool.made).toBeLessThanOrEqual(8);
    expect(pool.size).toBe(pool.made);
  });

  it('stops when the sink goes away, and writes nothing after that', async () => {
    const value = getRecordsAnswer(3_000, 7);
    const { sink, written, finish } = checkingSink(seededRandom(9), { closeAfterPieces: 3 });
    await expect(streamJson(value, sink, new ChunkPool(8))).resolves.toBe(false);
    finish();
    expect(written.length).toBe(3);
  });
});

describe('ChunkPool', () => {
  it('keeps at most `keep` chunks and takes back only whole chunks of its size', () => {
    const pool = new ChunkPool(2);
    const chunks = [pool.take(), pool.take(), pool.take()];
    expect(pool.made).toBe(3);
    for (const c of chunks) pool.give(c.subarray(0, 10));
    expect(pool.size).toBe(2);
    pool.give(Buffer.alloc(10));
    pool.give(Buffer.allocUnsafe(CHUNK_BYTES * 2).subarray(0, CHUNK_BYTES));
    pool.give(Buffer.allocUnsafeSlow(CHUNK_BYTES + 8).subarray(8));
    expect(pool.size).toBe(2);
    expect(pool.take().length).toBe(CHUNK_BYTES);
    expect(pool.made).toBe(3);
  });
});

describe('streamJson with records that arrive while the answer is written', () => {
  it('writes a StreamedList as its batches come and a Deferred after it, as JSON.stringify writes the whole answer (100 random answers)', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = seededRandom(seed);
      const items = getRecordsAnswer(seed % 10 === 0 ? 2_000 : Math.floor(random() * 50), seed).Records;
      const sizes: number[] = [];
      for (let left = items.length; left > 0 || random() < 0.2;) {
        const n = Math.min(left, Math.floor(random() * 400));
        sizes.push(n);
        left -= n;
      }
      let read = 0;
      const counted = (async function* () {
        for await (const b of batches(items, sizes)) {
          read += b.length;
          yield b;
        }
      })();
      const value = {
        Records: new StreamedList(counted),
        NextShardIterator: new Deferred(() => `after-${read}`),
        MillisBehindLatest: new Deferred(() => read % 7),
      };
      const { sink, written, finish, corrupted } = checkingSink(random);
      await expect(streamJson(value, sink, new ChunkPool(4))).resolves.toBe(true);
      finish();
      expect([seed, corrupted()]).toEqual([seed, 0]);
      const whole = { Records: items, NextShardIterator: `after-${items.length}`, MillisBehindLatest: items.length % 7 };
      expect([seed, Buffer.concat(written).toString('utf8')]).toEqual([seed, reference(whole).toString('utf8')]);
    }
  });

  it('writes top-level members of every kind in any order (left out, lists, StreamedLists, Deferreds) as JSON.stringify writes the whole answer, whose jsonLength is exact (100 random answers)', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const { make, whole } = randomStreamedAnswer(seed);
      const { sink, written, finish, corrupted } = checkingSink(seededRandom(seed));
      await expect(streamJson(make(), sink, new ChunkPool(4))).resolves.toBe(true);
      finish();
      expect([seed, corrupted()]).toEqual([seed, 0]);
      const expected = reference(whole);
      expect([seed, Buffer.concat(written).toString('utf8')]).toEqual([seed, expected.toString('utf8')]);
      expect([seed, jsonLength(whole)]).toEqual([seed, expected.length]);
      await expect(collectStreamed(make())).resolves.toEqual(whole);
    }
  });

  it('stops reading the batches when the sink goes away', async () => {
    const items = getRecordsAnswer(3_000, 4).Records;
    let batchesRead = 0;
    let closedEarly = false;
    const list = (async function* () {
      try {
        for (let i = 0; i < items.length; i += 100) {
          batchesRead++;
          yield items.slice(i, i + 100);
        }
      } finally {
        closedEarly = batchesRead < 30;
      }
    })();
    const { sink, finish } = checkingSink(seededRandom(2), { closeAfterPieces: 2 });
    await expect(streamJson({ Records: new StreamedList(list), Next: new Deferred(() => 'x') }, sink, new ChunkPool(4))).resolves.toBe(false);
    finish();
    expect(closedEarly).toBe(true);
  });

  it('collectStreamed gives the whole answer, the deferred members taken after the lists', async () => {
    const items = getRecordsAnswer(500, 6).Records;
    let read = 0;
    const list = (async function* () {
      for await (const b of batches(items, [100, 0, 400])) {
        read += b.length;
        yield b;
      }
    })();
    const value = { Records: new StreamedList(list), NextShardIterator: new Deferred(() => `after-${read}`), Plain: 1 };
    expect(hasStreamed(value)).toBe(true);
    expect(hasStreamed({ Records: items })).toBe(false);
    await expect(collectStreamed(value)).resolves.toEqual({ Records: items, NextShardIterator: 'after-500', Plain: 1 });
  });
});
