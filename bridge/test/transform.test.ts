import { join } from 'node:path';
import { ConfigError } from '@tideway/runtime';
import { buildTransformEvent, FirehoseTransform, interpretTransformResult } from '../src/transform';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Firehose transformation contract', () => {
  it('builds the Lambda event Firehose sends', () => {
    const e = buildTransformEvent('r', [{ data: Buffer.from('x'), timestamp: 5 }], 'us-east-1', 'inv');
    expect(e).toEqual({
      invocationId: 'inv',
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/r',
      region: 'us-east-1',
      records: [{ recordId: '0', approximateArrivalTimestamp: 5, data: b64('x') }],
    });
  });

  it('maps results back by recordId; missing, duplicate or unknown results are ProcessingFailed', () => {
    const out = interpretTransformResult(4, {
      records: [
        { recordId: '1', result: 'Dropped' },
        { recordId: '0', result: 'Ok', data: b64('a') },
        { recordId: '0', result: 'Dropped' },
        { recordId: '2', result: 'Maybe', data: b64('c') },
      ],
    });
    expect(out[0]).toEqual({ result: 'Ok', data: Buffer.from('a') });
    expect(out[1]).toEqual({ result: 'Dropped' });
    expect(out[2]).toMatchObject({ result: 'ProcessingFailed', error: 'transform returned unknown result "Maybe"' });
    expect(out[3]).toMatchObject({ result: 'ProcessingFailed', error: 'record missing from the transform result' });
    expect(interpretTransformResult(2, null).every((o) => o.result === 'ProcessingFailed')).toBe(true);
  });

  it('a handler that throws fails its records; callback-style handlers work', async () => {
    const throwing = new FirehoseTransform('r', () => Promise.reject(new Error('boom')), 'us-east-1');
    expect(await throwing.apply([{ data: Buffer.from('x'), timestamp: 0 }])).toEqual([{ result: 'ProcessingFailed', error: 'transform threw: boom' }]);
    const cb = new FirehoseTransform(
      'r',
      (event, _ctx, callback) =>
        callback!(null, { records: (event as { records: Array<{ recordId: string; data: string }> }).records.map((r) => ({ ...r, result: 'Ok' })) }),
      'us-east-1',
    );
    expect(await cb.apply([{ data: Buffer.from('y'), timestamp: 0 }])).toEqual([{ result: 'Ok', data: Buffer.from('y') }]);
  });

  it('a module without a handler is a config error naming the route', () => {
    expect(() => FirehoseTransform.load('r', join(__dirname, 'no-such-module.js'), 'us-east-1')).toThrow(ConfigError);
    expect(() => FirehoseTransform.load('r', join(__dirname, 'no-such-module.js'), 'us-east-1')).toThrow(/route "r" transform: cannot load/);
  });

  it('runs seed 004’s example transform unchanged: Celsius → Fahrenheit, humidity filter, failures', async () => {
    const t = FirehoseTransform.load('iot', join(__dirname, '..', '..', 'examples', 'transforms', 'iot-firehose.js'), 'us-east-1');
    const out = await t.apply(
      [
        '{"device_id":"sensor-001","temperature":22.5,"humidity":60}',
        '{"device_id":"sensor-002","temperature":30,"humidity":10}',
        'garbage',
        '{"device_id":"x","humidity":50}',
      ].map((s) => ({ data: Buffer.from(s), timestamp: 0 })),
    );
    expect(out[0].result).toBe('Ok');
    expect(JSON.parse((out[0] as { data: Buffer }).data.toString())).toEqual({
      device_id: 'sensor-001',
      temperature_c: 22.5,
      temperature_f: 72.5,
      humidity: 60,
    });
    expect(out.slice(1).map((o) => o.result)).toEqual(['Dropped', 'ProcessingFailed', 'ProcessingFailed']);
  });
});
