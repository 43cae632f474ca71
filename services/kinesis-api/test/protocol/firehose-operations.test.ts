import {
  FIREHOSE_OPERATIONS,
  MAX_FIREHOSE_RECORD_BYTES,
  MAX_PUT_RECORD_BATCH_BYTES,
  firehoseOperationOf,
  readFirehoseRequest,
  recordRefusal,
  type FirehoseOperation,
} from '../../src/protocol/firehose-operations';
import { decodeBody } from '../../src/protocol/wire';
import { kinesisErrorOf } from '../kinesis-error';

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64');

/** A request as @aws-sdk/client-firehose sends it: a JSON 1.1 body, blobs in base64. */
const json = <O extends FirehoseOperation>(op: O, body: Record<string, unknown>) =>
  readFirehoseRequest(op, 'json', decodeBody('json', Buffer.from(JSON.stringify(body))));
const rejected = (op: FirehoseOperation, body: Record<string, unknown>) => kinesisErrorOf(() => json(op, body));

describe('firehoseOperationOf', () => {
  it('reads the operation from X-Amz-Target', () => {
    for (const op of FIREHOSE_OPERATIONS) expect(firehoseOperationOf(`Firehose_20150804.${op}`)).toBe(op);
  });

  it('answers UnknownOperationException naming the served operations for one it does not serve', () => {
    const err = kinesisErrorOf(() => firehoseOperationOf('Firehose_20150804.UpdateDestination'));
    expect(err.name).toBe('UnknownOperationException');
    expect(err.message).toBe(`Operation UpdateDestination is not supported. Supported operations: ${FIREHOSE_OPERATIONS.join(', ')}`);
  });
});

describe('Firehose requests', () => {
  it('PutRecord: the data decoded, empty data allowed', () => {
    expect(json('PutRecord', { DeliveryStreamName: 'clicks', Record: { Data: b64('{"a":1}\n') } })).toEqual({ name: 'clicks', data: Buffer.from('{"a":1}\n') });
    expect(json('PutRecord', { DeliveryStreamName: 'clicks', Record: { Data: '' } }).data).toEqual(Buffer.alloc(0));
  });

  it('PutRecord: a record over 1,000 KiB, a missing record or a bad name is a ValidationException', () => {
    const err = rejected('PutRecord', { DeliveryStreamName: 'clicks', Record: { Data: b64(Buffer.alloc(MAX_FIREHOSE_RECORD_BYTES + 1)) } });
    expect([err.name, err.message]).toEqual([
      'ValidationException',
      `1 validation error detected: Value '<1024001 bytes>' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000`,
    ]);
    expect(json('PutRecord', { DeliveryStreamName: 'clicks', Record: { Data: b64(Buffer.alloc(MAX_FIREHOSE_RECORD_BYTES)) } }).data).toHaveLength(1024000);
    expect(rejected('PutRecord', { DeliveryStreamName: 'clicks' }).message).toContain(
      "Value null at 'record' failed to satisfy constraint: Member must not be null",
    );
    const bad = rejected('PutRecord', { DeliveryStreamName: 'x'.repeat(65) + '!', Record: { Data: '' } });
    expect(bad.message).toMatch(/^2 validation errors detected: .*length less than or equal to 64.*regular expression pattern/);
  });

  it('PutRecordBatch: 1–500 records; one over 1,000 KiB is kept for its own entry to fail', () => {
    const records = [{ Data: b64('a') }, { Data: b64(Buffer.alloc(MAX_FIREHOSE_RECORD_BYTES + 1)) }, { Data: b64('c') }];
    const req = json('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: records });
    expect(req.records.map((d) => d.length)).toEqual([1, MAX_FIREHOSE_RECORD_BYTES + 1, 1]);
    expect(req.records.map(recordRefusal)).toEqual([undefined, 'Record size (1024001 bytes) exceeds the limit of 1024000 bytes.', undefined]);
    expect(recordRefusal(Buffer.alloc(MAX_FIREHOSE_RECORD_BYTES))).toBeUndefined();

    expect(rejected('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: [] }).message).toContain('Member must have length greater than or equal to 1');
    const tooMany = rejected('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: Array.from({ length: 501 }, () => ({ Data: '' })) });
    expect([tooMany.name, tooMany.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '[501 items]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500",
    ]);
    expect(json('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: Array.from({ length: 500 }, () => ({ Data: '' })) }).records).toHaveLength(500);
  });

  it('PutRecordBatch: more than 4 MiB in all is an InvalidArgumentException; exactly 4 MiB is not', () => {
    const chunk = MAX_PUT_RECORD_BATCH_BYTES / 8;
    const exact = Array.from({ length: 8 }, () => ({ Data: b64(Buffer.alloc(chunk)) }));
    expect(json('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: exact }).records).toHaveLength(8);
    const err = rejected('PutRecordBatch', { DeliveryStreamName: 'clicks', Records: [...exact, { Data: b64('x') }] });
    expect([err.name, err.message]).toEqual([
      'InvalidArgumentException',
      'Records size (4194305 bytes) exceeds the limit of 4194304 bytes per PutRecordBatch request.',
    ]);
  });

  it('a blob that is not base64 is a SerializationException', () => {
    expect(rejected('PutRecord', { DeliveryStreamName: 'clicks', Record: { Data: 'not base64!' } }).name).toBe('SerializationException');
  });

  it('CreateDeliveryStream: DirectPut (the default), tags kept, destination configurations accepted; other sources refused', () => {
    expect(
      json('CreateDeliveryStream', {
        DeliveryStreamName: 'clicks',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::b', RoleARN: 'arn:aws:iam::1:role/r' },
        Tags: [{ Key: 'team', Value: 'web' }, { Key: 'empty' }],
      }),
    ).toEqual({ name: 'clicks', tags: { team: 'web', empty: '' } });
    expect(json('CreateDeliveryStream', { DeliveryStreamName: 'clicks', DeliveryStreamType: 'DirectPut' })).toEqual({ name: 'clicks', tags: {} });
    const source = rejected('CreateDeliveryStream', { DeliveryStreamName: 'clicks', DeliveryStreamType: 'KinesisStreamAsSource' });
    expect([source.name, source.message]).toEqual([
      'InvalidArgumentException',
      'DeliveryStreamType KinesisStreamAsSource is not served: a delivery stream is a Kafka topic written with PutRecord and PutRecordBatch (DirectPut).',
    ]);
    expect(rejected('CreateDeliveryStream', { DeliveryStreamName: 'clicks', DeliveryStreamType: 'Other' }).message).toContain(
      'Member must satisfy enum value set',
    );
    expect(rejected('CreateDeliveryStream', {}).message).toContain("Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null");
  });

  it('ListDeliveryStreams: a page of 10 by default, up to 10,000', () => {
    expect(json('ListDeliveryStreams', {})).toEqual({ limit: 10, type: undefined, exclusiveStartName: undefined });
    expect(json('ListDeliveryStreams', { Limit: 10_000, DeliveryStreamType: 'DirectPut', ExclusiveStartDeliveryStreamName: 'a' })).toEqual({
      limit: 10_000,
      type: 'DirectPut',
      exclusiveStartName: 'a',
    });
    expect(rejected('ListDeliveryStreams', { Limit: 0 }).name).toBe('ValidationException');
  });

  it('Describe and Delete name the delivery stream', () => {
    expect(json('DescribeDeliveryStream', { DeliveryStreamName: 'clicks', Limit: 5 })).toEqual({ name: 'clicks' });
    expect(json('DeleteDeliveryStream', { DeliveryStreamName: 'clicks', AllowForceDelete: true })).toEqual({ name: 'clicks' });
    expect(rejected('DeleteDeliveryStream', { DeliveryStreamName: '' }).name).toBe('ValidationException');
  });
});
