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
  type BodySink,
} from '../../src/protocol/json-writer';
import { seededRandom } from '../../../../test-support/seeded-random';

/** The reference: the answer copied with blobs as base64 and timestamps as epoch seconds, then JSON.stringify. */
function reference(value: unknown): Buffer {
  const wire = (v: unknown): unknown => {
    if (v instanceof Date) return v.getTime() / 1000;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (Array.isArray(v)) return v.map(wire);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wire(x)]));
    return v;
  };
  return Buffer.from(JSON.stringify(wire(value)), 'utf8');
}

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

/** Random answers: nested objects and lists of text (ASCII, escapes, beyond ASCII), numbers, blobs and timestamps. */
function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 3 ? 6 : 8));
  const text = () =>
    Array.from({ length: Math.floor(random() * 40) }, () => {
      const r = random();
      if (r < 0.7) return String.fromCharCode(0x20 + Math.floor(random() * 95));
      if (r < 0.8) return String.fromCharCode(Math.floor(random() * 0x20));
      if (r < 0.9) return String.fromCharCode(0x80 + Math.floor(random() * 0x2000));
      return random() < 0.5 ? '😀' : '\ud800';
    }).join('');
  switch (pick) {
    case 0:
      return text();
    case 1:
      return random() < 0.2 ? [NaN, Infinity, -0][Math.floor(random() * 3)] : (random() - 0.5) * 10 ** Math.floor(random() * 20);
    case 2:
      return [true, false, null, undefined][Math.floor(random() * 4)];
    case 3:
      return Buffer.from(Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256)));
    case 4:
      return new Date(Math.floor(random() * 2 ** 41));
    case 5:
      return 'x'.repeat(Math.floor(random() * 300_000));
    case 6:
      return Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [text(), randomValue(random, depth + 1)]));
  }
}

/** A GetRecords answer of about `records` KiB of data. */
function getRecordsAnswer(records: number, seed: number) {
  const random = seededRandom(seed);
  return {
    Records: Array.from({ length: records }, (_, i) => ({
      SequenceNumber: String(10n ** 40n + BigInt(i)),
      ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + i),
      Data: Buffer.from(Array.from({ length: 1 + Math.floor(random() * 2048) }, () => Math.floor(random() * 256))),
      PartitionKey: i % 3 === 0 ? `clé-${i}-€` : `key-${i}`,
    })),
    NextShardIterator: 'AAAA',
    MillisBehindLatest: 0,
  };
}

/**
 * A sink that copies every piece when it is written and checks, when the piece is reported sent,
 * that its bytes are still those (a chunk reused too early would have changed). Behind at random;
 * it drains, and reports pieces sent, a few turns later in any order.
 */
function checkingSink(random: () => number, options: { closeAfterPieces?: number } = {}) {
  const written: Buffer[] = [];
  const unsent: Array<() => void> = [];
  let closed = false;
  let corrupted = 0;
  const settleSome = () => {
    while (unsent.length > 0 && random() < 0.7) unsent.splice(Math.floor(random() * unsent.length), 1)[0]();
  };
  const sink: BodySink = {
    write(part, sent) {
      if (closed) throw new Error('written after the sink went away');
      const copy = Buffer.from(part);
      written.push(copy);
      unsent.push(() => {
        if (!part.equals(copy)) corrupted++;
        sent(!closed);
      });
      if (options.closeAfterPieces !== undefined && written.length >= options.closeAfterPieces) closed = true;
      return random() < 0.5;
    },
    drained: async () => {
      for (let i = Math.floor(random() * 3); i >= 0; i--) {
        await Promise.resolve();
        settleSome();
      }
      return !closed;
    },
  };
  const finish = () => {
    while (unsent.length > 0) unsent.shift()!();
  };
  return { sink, written, finish, corrupted: () => corrupted };
}

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
  async function* batches(items: unknown[], sizes: number[]): AsyncGenerator<unknown[]> {
    let at = 0;
    for (const n of sizes) {
      await Promise.resolve();
      yield items.slice(at, at + n);
      at += n;
    }
  }

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
