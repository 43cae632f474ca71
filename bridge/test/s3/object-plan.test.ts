import type { IncomingMessage } from '@tideway/runtime';
import { planObjects, startsNewBuffer } from '../../src/s3/object-plan';
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

describe('startsNewBuffer', () => {
  it('keeps a buffer to ascending offsets: a replayed offset opens a new one', () => {
    expect(startsNewBuffer(undefined, '5')).toBe(false);
    expect(startsNewBuffer('5', '6')).toBe(false);
    expect(startsNewBuffer('5', '9')).toBe(false); // a gap (compaction, markers) is fine
    expect(startsNewBuffer('5', '5')).toBe(true);
    expect(startsNewBuffer('150', '80')).toBe(true);
    expect(startsNewBuffer('9', '10')).toBe(false); // compared as numbers, not strings
  });
});
