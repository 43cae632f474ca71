import { seededRandom } from '../../test-support/seeded-random';
import { KeyOrderedRetryQueue, outcomesOfBatchCall, type BatchLimits, type Unit } from '../src/key-ordered-retry-queue';

const backoff = { initialMs: 10, maxMs: 100, multiplier: 2 };
const limits: BatchLimits = { maxUnits: 500, maxBytes: 5 * 1024 * 1024, unitMaxRecords: 1, unitMaxBytes: 1024 * 1024 };

const rng = seededRandom;

function enqueueAll(q: KeyOrderedRetryQueue<{ key: string; seq: number }>, records: Array<{ key: string; seq: number }>) {
  for (const r of records) q.enqueue({ key: r.key, bytes: 10, payload: r, enqueuedAt: 0 });
}

describe('KeyOrderedRetryQueue', () => {
  it('takes at most one unit per key per batch, in enqueue order', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff, () => 0.5);
    enqueueAll(q, [
      { key: 'a', seq: 1 },
      { key: 'a', seq: 2 },
      { key: 'b', seq: 3 },
    ]);
    const batch = q.takeBatch(0, limits);
    expect(batch.map((u) => u.entries.map((e) => e.payload.seq))).toEqual([[1], [3]]);
    // 'a' is in flight: nothing more of it may be taken.
    expect(q.takeBatch(0, limits)).toEqual([]);
  });

  it('holds back the later records of a key whose earlier record failed, and only that key', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff, () => 0.99);
    enqueueAll(q, [
      { key: 'a', seq: 1 },
      { key: 'b', seq: 2 },
      { key: 'a', seq: 3 },
      { key: 'b', seq: 4 },
    ]);
    const first = q.takeBatch(0, limits);
    q.complete(first, [{ ok: false, code: 'ProvisionedThroughputExceededException' }, { ok: true }], 0);
    // b goes on with seq 4; a (failed seq 1) waits for its backoff and seq 3 waits behind it.
    const second = q.takeBatch(1, limits);
    expect(second.map((u) => u.entries[0].payload.seq)).toEqual([4]);
    q.complete(second, [{ ok: true }], 1);
    expect(q.takeBatch(1, limits)).toEqual([]);
    const retryAt = q.nextRetryAt()!;
    expect(retryAt).toBeGreaterThan(1);
    const third = q.takeBatch(retryAt, limits);
    expect(third.map((u) => u.entries[0].payload.seq)).toEqual([1]);
    expect(third[0].attempts).toBe(1);
    q.complete(third, [{ ok: true }], retryAt);
    expect(q.takeBatch(retryAt, limits).map((u) => u.entries[0].payload.seq)).toEqual([3]);
  });

  it('a whole-call failure puts every unit back without reordering', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff, () => 0);
    enqueueAll(q, [
      { key: 'a', seq: 1 },
      { key: 'a', seq: 2 },
    ]);
    const b1 = q.takeBatch(0, limits);
    q.failAll(b1, 0);
    const b2 = q.takeBatch(0, limits);
    expect(b2.map((u) => u.entries[0].payload.seq)).toEqual([1]);
    expect(q.size).toBe(2);
  });

  it('respects record and byte limits per request and aggregates a key run into one unit', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff);
    for (let i = 0; i < 10; i++) q.enqueue({ key: `k${i % 2}`, bytes: 100, payload: { key: `k${i % 2}`, seq: i }, enqueuedAt: 0 });
    const agg = q.takeBatch(0, { maxUnits: 500, maxBytes: 10_000, unitMaxRecords: 100, unitMaxBytes: 350, unitOverheadBytes: () => 20 });
    // 20 + 3 × 100 = 320 ≤ 350; a fourth record would make 420.
    expect(agg.map((u) => u.entries.map((e) => e.payload.seq))).toEqual([
      [0, 2, 4],
      [1, 3, 5],
    ]);
    expect(agg.map((u) => u.bytes)).toEqual([320, 320]);
    const q2 = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff);
    for (let i = 0; i < 10; i++) q2.enqueue({ key: `k${i}`, bytes: 100, payload: { key: `k${i}`, seq: i }, enqueuedAt: 0 });
    expect(q2.takeBatch(0, { ...limits, maxUnits: 3 }).length).toBe(3);
    expect(q2.takeBatch(0, { ...limits, maxBytes: 250 }).length).toBe(2);
  });

  it('skips keys the rate limiter refuses, leaving them ready', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff);
    enqueueAll(q, [
      { key: 'hot', seq: 1 },
      { key: 'cold', seq: 2 },
    ]);
    const b = q.takeBatch(0, { ...limits, admit: (key) => key !== 'hot' });
    expect(b.map((u) => u.key)).toEqual(['cold']);
    expect(q.takeBatch(0, limits).map((u) => u.key)).toEqual(['hot']);
  });

  it('says when the rate limiter may admit the earliest of the keys it refused', () => {
    const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff);
    enqueueAll(q, [
      { key: 'a', seq: 1 },
      { key: 'b', seq: 2 },
      { key: 'c', seq: 3 },
    ]);
    const at: Record<string, number> = { a: 40, b: 15 };
    const b = q.takeBatch(0, { ...limits, admit: (key) => !(key in at), admitAt: (key) => at[key] });
    expect(b.map((u) => u.key)).toEqual(['c']);
    expect(q.admissionAt()).toBe(15);
    // Each batch says it afresh: nothing refused, nothing to wait for.
    expect(q.takeBatch(15, limits).map((u) => u.key)).toEqual(['a', 'b']);
    expect(q.admissionAt()).toBeUndefined();
  });

  it('under random partial and whole-call failures delivers every record once, each key in order', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const random = rng(seed);
      const q = new KeyOrderedRetryQueue<{ key: string; seq: number }>(backoff, random);
      const keys = 37;
      const records = Array.from({ length: 3000 }, (_, i) => ({ key: `key-${Math.floor(random() * keys)}`, seq: i }));
      enqueueAll(q, records);
      const accepted: Array<{ key: string; seq: number }> = [];
      const inFlight: Unit<{ key: string; seq: number }>[][] = [];
      let now = 0;
      let guard = 0;
      while (q.size > 0 && guard++ < 100_000) {
        // Up to 3 concurrent requests, completed in random order.
        while (inFlight.length < 3) {
          const b = q.takeBatch(now, { ...limits, maxUnits: 1 + Math.floor(random() * 40) });
          if (b.length === 0) break;
          const keysInFlight = inFlight.flat().map((u) => u.key);
          for (const u of b) expect(keysInFlight).not.toContain(u.key);
          inFlight.push(b);
        }
        if (inFlight.length === 0) {
          now = q.nextRetryAt() ?? now + 1;
          continue;
        }
        const [batch] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
        if (random() < 0.1) q.failAll(batch, now);
        else {
          const outcomes = batch.map(() => (random() < 0.3 ? { ok: false as const, code: 'ProvisionedThroughputExceededException' } : { ok: true as const }));
          batch.forEach((u, i) => {
            if (outcomes[i].ok) accepted.push(...u.entries.map((e) => e.payload));
          });
          q.complete(batch, outcomes, now);
        }
        now += 1;
      }
      expect(q.size).toBe(0);
      expect(q.bytes).toBe(0);
      expect(accepted.map((r) => r.seq).sort((a, b) => a - b)).toEqual(records.map((r) => r.seq));
      const byKey = new Map<string, number[]>();
      for (const r of accepted) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.seq]);
      for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});

describe('outcomesOfBatchCall', () => {
  it('maps answers in request order, an ErrorCode meaning that record failed', () => {
    expect(outcomesOfBatchCall('PutRecords', 3, [{}, { ErrorCode: 'ProvisionedThroughputExceededException' }, { ErrorCode: undefined }])).toEqual([
      { ok: true },
      { ok: false, code: 'ProvisionedThroughputExceededException' },
      { ok: true },
    ]);
  });
  it('treats a wrong number of answers as a failed call', () => {
    expect(() => outcomesOfBatchCall('PutRecordBatch', 2, [{}])).toThrow('PutRecordBatch answered 1 results for 2 records');
  });
});
