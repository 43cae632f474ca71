import { encodeJson } from '../../src/protocol/json-writer';
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
