import { expandPrefix, formatTimestamp, objectKey, PrefixExpansionError } from '../../src/s3/prefix';

const ts = Date.UTC(2026, 10, 2, 7, 5, 9, 12);
const ctx = (record: unknown = {}) => ({ timestamp: ts, record: () => record, randomSeed: 't+0+5' });

describe('S3 prefix expressions', () => {
  it('expands the Firehose timestamp expressions in UTC', () => {
    expect(expandPrefix('raw/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/', ctx())).toBe('raw/year=2026/month=11/day=02/');
    expect(formatTimestamp(ts, 'yyyy-MM-dd HH:mm:ss.SSS')).toBe('2026-11-02 07:05:09.012');
  });

  it('expands a field of the record into one safe path segment', () => {
    expect(expandPrefix('device=!{field:device.id}/', ctx({ device: { id: 'sensor/001 a' } }))).toBe('device=sensor%2F001%20a/');
    expect(expandPrefix('k=!{partitionKeyFromQuery:n}/', ctx({ n: 7 }))).toBe('k=7/');
    expect(() => expandPrefix('device=!{field:missing}/', ctx({}))).toThrow(PrefixExpansionError);
  });

  it('derives random-string from the object coordinates, so a replay gets the same prefix', () => {
    const a = expandPrefix('x/!{firehose:random-string}/', ctx());
    expect(a).toMatch(/^x\/[0-9a-f]{11}\/$/);
    expect(expandPrefix('x/!{firehose:random-string}/', ctx())).toBe(a);
  });

  it('expands the error output type', () => {
    expect(expandPrefix('errors/!{firehose:error-output-type}/', { ...ctx(), errorOutputType: 'processing-failed' })).toBe('errors/processing-failed/');
  });

  it('names objects from topic, partition and first offset only', () => {
    expect(objectKey('raw/', 'iot.readings', 2, '41', 'gzip')).toBe('raw/iot.readings+2+00000000000000000041.json.gz');
    expect(objectKey('', 't', 0, '0', 'none')).toBe('t+0+00000000000000000000.json');
  });
});
