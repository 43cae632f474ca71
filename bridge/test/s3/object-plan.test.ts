import type { IncomingMessage } from '@tideway/runtime';
import { planObjects, startsNewBuffer } from '../../src/s3/object-plan';
import { expandPrefix, objectKey, prefixPeriodMs } from '../../src/s3/prefix';
import type { BridgeRecord } from '../../src/sink';
import { OffsetTracker } from '../../src/offset-tracker';

const day = (d: number) => Date.UTC(2026, 0, d, 12);
function rec(offset: number, value: string, timestamp = day(1)): BridgeRecord {
  const message: IncomingMessage = { topic: 'iot', partition: 1, offset: String(offset), key: null, value: Buffer.from(value), headers: {}, timestamp };
  return { message, token: new OffsetTracker().track('iot', 1, String(offset)), data: Buffer.from(value), readAt: 0 };
}

const opts = { prefix: 'raw/day=!{timestamp:dd}/', errorOutputPrefix: 'errors/!{firehose:error-output-type}/', compression: 'gzip' as const, now: 5 };

describe('planObjects', () => {
  it('groups records by expanded prefix, naming every object with the buffer first offset', () => {
    const records = [rec(7, '{"a":1}', day(1)), rec(8, '{"a":2}', day(2)), rec(9, '{"a":3}\n', day(1))];
    const plan = planObjects({ route: 'r', topic: 'iot', partition: 1, records, failed: new Set() }, opts);
    expect(plan.objects.map((o) => [o.key, Buffer.concat(o.lines).toString(), o.firstOffset, o.lastOffset])).toEqual([
      ['raw/day=01/iot+1+00000000000000000007.json.gz', '{"a":1}\n{"a":3}\n', '7', '9'],
      ['raw/day=02/iot+1+00000000000000000007.json.gz', '{"a":2}\n', '8', '8'],
    ]);
    expect(plan.delivered).toHaveLength(3);
  });

  it('sends transform failures and unpartitionable records to the error prefix as Firehose error records', () => {
    const failed = { ...rec(3, 'not json'), transformError: 'transform returned ProcessingFailed' };
    const noField = rec(4, '{"x":1}');
    const plan = planObjects(
      { route: 'r', topic: 'iot', partition: 1, records: [failed, noField], failed: new Set([failed]) },
      { ...opts, prefix: 'by/!{field:device}/' },
    );
    expect(plan.delivered).toEqual([]);
    expect(plan.errorOutput).toEqual([failed, noField]);
    const [pf, part] = plan.objects;
    expect(pf.key).toBe('errors/processing-failed/iot+1+00000000000000000003.json.gz');
    expect(part.key).toBe('errors/partitioning-failed/iot+1+00000000000000000003.json.gz');
    const e = JSON.parse(Buffer.concat(pf.lines).toString());
    expect(e).toMatchObject({
      errorCode: 'Lambda.ProcessingFailed',
      errorMessage: 'transform returned ProcessingFailed',
      rawData: Buffer.from('not json').toString('base64'),
      kafka: { topic: 'iot', partition: 1, offset: '3' },
    });
  });
});

describe('planObjects expands a prefix once per period of time', () => {
  const PREFIXES = [
    'raw/dt=!{timestamp:yyyy-MM-dd}/',
    'raw/!{timestamp:yyyy}/!{timestamp:MM}/',
    'raw/!{timestamp:yy}/',
    'raw/h=!{timestamp:HH}/',
    'raw/!{timestamp:yyyy-MM-dd HH:mm}/',
    'raw/!{timestamp:ss}/',
    'raw/!{timestamp:ss.SSS}/',
    'raw/!{firehose:random-string}/',
    'static/',
    'by/!{field:d}/!{timestamp:dd}/',
  ];

  it('puts every record where expanding its own prefix would (2,000 random buffers)', () => {
    let seed = 11;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    // Timestamps that stay within a period, cross it, and jump across days, months and years.
    const steps = [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 86_399_999, 86_400_000, 31 * 86_400_000, 400 * 86_400_000];
    for (let run = 0; run < 2000; run++) {
      const prefix = PREFIXES[run % PREFIXES.length];
      let t = Date.UTC(2025, 11, 31, 23, 59, 58) + Math.floor(random() * 5000);
      const records = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => {
        t += steps[Math.floor(random() * steps.length)] * (random() < 0.2 ? -1 : 1);
        return rec(100 + i, JSON.stringify({ d: `dev${Math.floor(random() * 3)}` }), t);
      });
      const plan = planObjects({ route: 'r', topic: 'iot', partition: 1, records, failed: new Set() }, { ...opts, prefix });
      const placed = new Map<BridgeRecord, string>();
      for (const o of plan.objects) for (const r of o.records) placed.set(r, o.key);
      for (const r of records) {
        const own = expandPrefix(prefix, { timestamp: r.message.timestamp, randomSeed: 'iot+1+100', record: () => JSON.parse(r.data.toString()) });
        expect(placed.get(r)).toBe(objectKey(own, 'iot', 1, '100', 'gzip'));
      }
      const lines = plan.objects.flatMap((o) => o.records.map((r) => r.data.toString()));
      expect(lines.sort()).toEqual(records.map((r) => r.data.toString()).sort());
    }
  });

  it('knows how long an expansion holds', () => {
    expect(PREFIXES.map(prefixPeriodMs)).toEqual([86_400_000, 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1, Infinity, Infinity, 0]);
  });
});

describe('startsNewBuffer', () => {
  it('orders offsets as numbers (10,000 random pairs against BigInt)', () => {
    let seed = 5;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const offset = () => String(BigInt(Math.floor(random() * 10 ** Math.floor(random() * 16))) * BigInt(1 + Math.floor(random() * 1000)));
    for (let i = 0; i < 10_000; i++) {
      const [a, b] = [offset(), random() < 0.1 ? undefined : offset()];
      expect(startsNewBuffer(b, a)).toBe(b !== undefined && BigInt(a) <= BigInt(b));
    }
  });

  it('keeps a buffer to ascending offsets: a replayed offset opens a new one', () => {
    expect(startsNewBuffer(undefined, '5')).toBe(false);
    expect(startsNewBuffer('5', '6')).toBe(false);
    expect(startsNewBuffer('5', '9')).toBe(false); // a gap (compaction, markers) is fine
    expect(startsNewBuffer('5', '5')).toBe(true);
    expect(startsNewBuffer('150', '80')).toBe(true);
    expect(startsNewBuffer('9', '10')).toBe(false); // compared as numbers, not strings
  });
});
