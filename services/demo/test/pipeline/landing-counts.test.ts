import { gzipSync } from 'node:zlib';
import { objectRecords } from '../../src/pipeline/landing-counts';

test('an object holds newline-delimited records, gzip or plain', () => {
  const lines = '{"a":1}\n{"b":2}\n';
  expect(objectRecords('claims/x', Buffer.from(lines))).toEqual(['{"a":1}', '{"b":2}']);
  expect(objectRecords('policies/t+0+1.json.gz', gzipSync(lines))).toEqual(['{"a":1}', '{"b":2}']);
  // moto's Firehose keys have no extension: the gzip magic bytes decide
  expect(objectRecords('claims/y', gzipSync(lines))).toEqual(['{"a":1}', '{"b":2}']);
});
