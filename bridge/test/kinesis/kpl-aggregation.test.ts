import { aggregate, aggregatedRecordOverhead, aggregatedSize, KPL_MAGIC } from '../../src/kinesis/kpl-aggregation';

// The awslabs de-aggregation library (what KCL-based consumers and Lambda use), not our own decoder.
// Its .d.ts needs aws-sdk v2 types, so it is loaded untyped.
interface UserRecord {
  partitionKey: string;
  data: string;
}
const agg = require('aws-kinesis-agg') as {
  deaggregateSync(
    record: { data: string; partitionKey: string; sequenceNumber?: string },
    checksums: boolean,
    cb: (err: Error | null, records?: UserRecord[]) => void,
  ): void;
};

function deaggregate(partitionKey: string, data: Buffer): UserRecord[] {
  let out: UserRecord[] | undefined;
  agg.deaggregateSync({ partitionKey, data: data.toString('base64'), sequenceNumber: '1' }, true, (err, records) => {
    if (err) throw err;
    out = records;
  });
  return out!;
}

describe('KPL aggregation', () => {
  it('is de-aggregated by aws-kinesis-agg into the original records, in order, with checksum', () => {
    const records = Array.from({ length: 50 }, (_, i) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i * 7) })));
    records.push(Buffer.alloc(0), Buffer.alloc(300, 0xff));
    const encoded = aggregate('cliente-ñ-12345', records);
    expect(encoded.subarray(0, 4)).toEqual(KPL_MAGIC);
    const out = deaggregate('cliente-ñ-12345', encoded);
    expect(out.map((r) => Buffer.from(r.data, 'base64'))).toEqual(records);
    expect(new Set(out.map((r) => r.partitionKey))).toEqual(new Set(['cliente-ñ-12345']));
  });

  it('predicts its size exactly and stays within the per-record overhead bound', () => {
    const records = [0, 1, 127, 128, 20_000, 300_000].map((n) => Buffer.alloc(n, 1));
    const encoded = aggregate('k', records);
    expect(
      aggregatedSize(
        'k',
        records.map((r) => r.length),
      ),
    ).toBe(encoded.length);
    const bound = 20 + 1 + 1 + 1 + records.reduce((s, r) => s + aggregatedRecordOverhead(r.length), 0);
    expect(encoded.length).toBeLessThanOrEqual(bound);
  });

  it('a corrupted aggregate fails the checksum', () => {
    const encoded = aggregate('k', [Buffer.from('a'), Buffer.from('b')]);
    encoded[10] ^= 0xff;
    expect(() => deaggregate('k', encoded)).toThrow();
  });
});
