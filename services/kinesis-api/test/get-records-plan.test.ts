import { FETCH_BYTES, MAX_FETCHES, nextFetch, NOTHING_READ, type GetRecordsProgress } from '../src/get-records-plan';
import { MAX_GET_RECORDS, MAX_GET_RECORDS_BYTES, MAX_RECORD_BYTES } from '../src/protocol/operations';
import { seededRandom } from '../../../test-support/seeded-random';

/** A shard: records (a size of data and key; null for a tombstone) or transaction markers (no record), by offset. */
type Entry = { kind: 'record'; bytes: number } | { kind: 'tombstone'; bytes: number } | { kind: 'marker' };

function randomShard(random: () => number): Entry[] {
  const length = Math.floor(random() * 30_000);
  const large = random() < 0.3;
  return Array.from({ length }, (): Entry => {
    const r = random();
    if (r < 0.02) return { kind: 'marker' };
    if (r < 0.04) return { kind: 'tombstone', bytes: 4 };
    const bytes = large && random() < 0.2 ? 1 + Math.floor(random() * MAX_RECORD_BYTES) : 1 + Math.floor(random() * 2048);
    return { kind: 'record', bytes };
  });
}

/** A fetch as the partition readers answer it: records in order within the bounds, at least one however large; markers passed over. */
function fetch(shard: Entry[], from: number, maxRecords: number, maxBytes: number) {
  const taken: Array<{ offset: number; entry: Entry }> = [];
  let bytes = 0;
  let next = from;
  for (let o = from; o < shard.length && taken.length < maxRecords; o++) {
    const e = shard[o];
    if (e.kind !== 'marker') {
      if (taken.length > 0 && bytes + e.bytes > maxBytes) break;
      bytes += e.bytes;
      taken.push({ offset: o, entry: e });
    }
    next = o + 1;
  }
  return { taken, next };
}

describe('nextFetch', () => {
  it('reads each answer as a whole prefix of the shard, within Kinesis bounds, and stops only when it must (400 random shards)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededRandom(seed);
      const shard = randomShard(random);
      const start = Math.floor(random() * Math.max(1, shard.length));
      const limit = random() < 0.5 ? MAX_GET_RECORDS : 1 + Math.floor(random() * MAX_GET_RECORDS);
      let p: GetRecordsProgress = NOTHING_READ;
      let offset = start;
      const answered: number[] = [];
      for (let bounds = nextFetch(p, limit); bounds; bounds = nextFetch(p, limit)) {
        expect(bounds.maxBytes).toBeLessThanOrEqual(FETCH_BYTES);
        const { taken, next } = fetch(shard, offset, bounds.maxRecords, bounds.maxBytes);
        const records = taken.filter((t) => t.entry.kind === 'record');
        answered.push(...records.map((t) => t.offset));
        p = {
          fetches: p.fetches + 1,
          records: p.records + records.length,
          bytes: p.bytes + records.reduce((n, t) => n + (t.entry as { bytes: number }).bytes, 0),
          atEnd: next >= shard.length,
          moved: next > offset,
        };
        offset = next;
      }
      const context = `seed ${seed}`;
      // In order, none skipped, none twice: exactly the shard's records from the start to the new position.
      const expected = shard.flatMap((e, o) => (o >= start && o < offset && e.kind === 'record' ? [o] : []));
      expect([context, answered]).toEqual([context, expected]);
      expect([context, p.records <= limit, p.bytes <= MAX_GET_RECORDS_BYTES]).toEqual([context, true, true]);
      // It stopped because the shard ended, the Limit was reached, or another record might not fit.
      const mustStop = offset >= shard.length || p.records >= limit || MAX_GET_RECORDS_BYTES - p.bytes < MAX_RECORD_BYTES || p.fetches >= MAX_FETCHES;
      expect([context, mustStop]).toEqual([context, true]);
    }
  });

  it('asks for the rest of the Limit and at most one fetch of bytes', () => {
    expect(nextFetch(NOTHING_READ, 10_000)).toEqual({ maxRecords: 10_000, maxBytes: FETCH_BYTES });
    expect(nextFetch({ fetches: 3, records: 9_000, bytes: 3 * FETCH_BYTES, atEnd: false, moved: true }, 10_000)).toEqual({
      maxRecords: 1_000,
      maxBytes: FETCH_BYTES,
    });
  });

  it('stops at the end of the shard, after a fetch that did not move, at the Limit, and when a whole record might not fit', () => {
    const after = (p: Partial<GetRecordsProgress>) => nextFetch({ fetches: 1, records: 10, bytes: 100, atEnd: false, moved: true, ...p }, 10_000);
    expect(after({ atEnd: true })).toBeUndefined();
    expect(after({ moved: false })).toBeUndefined();
    expect(after({ records: 10_000 })).toBeUndefined();
    expect(after({ bytes: MAX_GET_RECORDS_BYTES - MAX_RECORD_BYTES + 1 })).toBeUndefined();
    expect(after({ bytes: MAX_GET_RECORDS_BYTES - MAX_RECORD_BYTES })).toEqual({ maxRecords: 9_990, maxBytes: FETCH_BYTES });
    expect(after({ fetches: MAX_FETCHES })).toBeUndefined();
  });
});
