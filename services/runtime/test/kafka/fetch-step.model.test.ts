/**
 * The Fetch reader's decision after each fetch (`stepAfterFetch`) against a model partition:
 * committed records, records of aborted transactions and transaction markers at random, fetches
 * that bring a random slice of what follows their start, reads with random bounds. A consumer that
 * goes on from each read's next offset must see every committed record from where it started,
 * once, in order — a decision that moves past a record it did not return loses it for good.
 */
import { stepAfterFetch } from '../../src/kafka/partition-read';
import { seededRandom, type SeededRandom } from '../../src/seeded-random';

type Entry = 'data' | 'aborted' | 'marker';
const MAX_FETCHES_PER_READ = 50;

function partition(random: SeededRandom): Entry[] {
  const log: Entry[] = [];
  const length = random.int(120);
  while (log.length < length) {
    if (random.chance(0.15)) {
      // A transaction: its records, then its marker (aborted or committed).
      const aborted = random.chance(0.5);
      for (let i = random.int(6); i >= 0; i--) log.push(aborted ? 'aborted' : 'data');
      log.push('marker');
    } else log.push('data');
  }
  return log;
}

/** One read as the reader runs it: fetch, decide, fetch again past markers, at most MAX_FETCHES_PER_READ times. */
function read(log: Entry[], random: SeededRandom, from: number, maxRecords: number, maxBytes: number | undefined) {
  const end = BigInt(log.length);
  let start = BigInt(from);
  for (let fetches = 0; ; fetches++) {
    // The broker answers a slice from `start` (whole batches, then filtered from `start` on).
    const s = Number(start);
    const upTo = Math.min(log.length, s + 1 + random.int(15));
    const slice = s < log.length ? log.slice(s, upTo).map((e, i) => ({ e, offset: s + i })) : [];
    const usable = slice.filter((x) => x.e === 'data').map((x) => ({ offset: String(x.offset), key: null, value: Buffer.alloc(1 + (x.offset % 7)) }));
    const lastFetched = slice.length > 0 ? BigInt(slice[slice.length - 1].offset) : undefined;
    const step = stepAfterFetch(start, usable, lastFetched, end, maxRecords, maxBytes);
    if (step.kind === 'skip' && fetches < MAX_FETCHES_PER_READ) {
      expect(step.next).toBeGreaterThan(start);
      start = step.next;
      continue;
    }
    const offsets = step.kind === 'records' ? usable.slice(0, step.count).map((m) => Number(m.offset)) : [];
    return { offsets, next: Number(step.next) };
  }
}

it('a consumer going on from each next offset sees every committed record once, in order (3,000 seeded partitions)', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const random = seededRandom(seed);
    const log = partition(random);
    const from = random.int(log.length + 1);
    const expected = log.flatMap((e, offset) => (e === 'data' && offset >= from ? [offset] : []));
    const seen: number[] = [];
    let next = from;
    for (let reads = 0; next < log.length || reads === 0; reads++) {
      if (reads > 10_000) throw new Error(`seed ${seed}: no progress at ${next}`);
      const r = read(log, random, next, 1 + random.int(8), random.chance(0.3) ? 1 + random.int(12) : undefined);
      for (const o of r.offsets) expect([seed, o >= next && o < r.next]).toEqual([seed, true]);
      expect([seed, r.next >= next]).toEqual([seed, true]);
      seen.push(...r.offsets);
      next = r.next;
    }
    expect([seed, next]).toEqual([seed, log.length]);
    expect([seed, seen]).toEqual([seed, expected]);
  }
});

it('stays where it is when the fetch brought nothing, and never passes a usable record it does not return', () => {
  expect(stepAfterFetch(5n, [], undefined, 9n, 10)).toEqual({ kind: 'end', next: 5n });
  expect(stepAfterFetch(5n, [], 7n, 9n, 10)).toEqual({ kind: 'skip', next: 8n });
  expect(stepAfterFetch(5n, [], 8n, 9n, 10)).toEqual({ kind: 'end', next: 9n });
  const usable = ['6', '8', '9'].map((offset) => ({ offset, key: null, value: Buffer.alloc(10) }));
  expect(stepAfterFetch(5n, usable, 9n, 12n, 2)).toEqual({ kind: 'records', count: 2, next: 9n });
  expect(stepAfterFetch(5n, usable, 9n, 12n, 10, 15)).toEqual({ kind: 'records', count: 1, next: 7n });
});
