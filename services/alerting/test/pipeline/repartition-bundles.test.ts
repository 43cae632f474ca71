import { keyPartition } from '@tideway/runtime';
import { stateKeyOf, type ForwardedEvent } from '../../src/pipeline/input-evaluator';
import { decodeRepartitionValue, FragmentEncoder, RepartitionBundler } from '../../src/pipeline/repartition-bundles';

/** The repartition records one transaction with `events` writes, evaluated in batches of `perBatch`. */
function bundle(events: ForwardedEvent[], partitions: number, maxBytes?: number, perBatch = 7) {
  const bundler = new RepartitionBundler();
  for (let i = 0; i < events.length; i += perBatch) {
    const encoder = maxBytes === undefined ? new FragmentEncoder(partitions) : new FragmentEncoder(partitions, maxBytes / 4);
    for (const e of events.slice(i, i + perBatch)) encoder.add(e);
    bundler.addFragments(encoder.finish());
  }
  return bundler.records('g.repartition', maxBytes);
}

const ev = (r: string, k: string, t: number): ForwardedEvent => ({ r, k, t, s: { topic: 'in', partition: 0, offset: String(t) }, v: [t] });

describe('repartition bundles', () => {
  const events = Array.from({ length: 200 }, (_, i) => ev(i % 3 === 0 ? 'spend' : 'sessions', `A${i % 17}`, i));

  it('puts each (rule, key) on the partition a keyed record would get, keeping input order', () => {
    const records = bundle(events, 4);
    const seen: ForwardedEvent[] = [];
    for (const r of records) {
      const inRecord = decodeRepartitionValue(Buffer.from(r.value as string));
      for (const e of inRecord) expect(r.partition).toBe(keyPartition(stateKeyOf(e.r, e.k), 4));
      seen.push(...inRecord);
    }
    expect(seen).toHaveLength(events.length);
    // Per (rule, key), the events come out in the order they went in.
    const order = (list: ForwardedEvent[]) => {
      const m = new Map<string, number[]>();
      for (const e of list) m.set(stateKeyOf(e.r, e.k), [...(m.get(stateKeyOf(e.r, e.k)) ?? []), e.t]);
      return m;
    };
    expect(order(seen)).toEqual(order(events));
    expect(new Set(records.map((r) => r.partition)).size).toBe(records.length);
  });

  it("splits a partition's events into records of at most maxBytes", () => {
    const records = bundle(events, 1, 2000);
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect((r.value as string).length).toBeLessThanOrEqual(2000);
    expect(records.flatMap((r) => decodeRepartitionValue(Buffer.from(r.value as string)))).toEqual(events);
  });

  it('reads single-event records of earlier versions and rejects anything else', () => {
    expect(decodeRepartitionValue(Buffer.from(JSON.stringify(events[0])))).toEqual([events[0]]);
    expect(() => decodeRepartitionValue(Buffer.from('[{"r":1}]'))).toThrow('not a forwarded event');
    expect(() => decodeRepartitionValue(Buffer.from('{oops'))).toThrow();
    expect(() => decodeRepartitionValue(null)).toThrow('not a forwarded event');
  });
});
