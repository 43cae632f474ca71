/**
 * The JSON 1.1 protocol against the AWS SDK for JavaScript v3's own serializers: requests the SDK
 * builds are read by `decodeBody`/`readRequest`, and answers made by `encodeResponse`/`encodeError`
 * are parsed by the SDK into the values and exceptions an application sees. The request handler
 * only hands bodies across in memory; there is no network in a unit test.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand, type KinesisServiceException } from '@aws-sdk/client-kinesis';
import { KinesisApiError } from '../../src/errors';
import { operationOf, readRequest } from '../../src/protocol/operations';
import { decodeBody, encodeError, encodeResponse, wireFormatOf, type HeldResponse } from '../../src/protocol/wire';

interface Captured {
  target: string;
  contentType: string;
  body: Buffer;
}

function client(answer: (req: Captured) => HeldResponse): { kinesis: KinesisClient; sent: Captured[] } {
  const sent: Captured[] = [];
  const kinesis = new KinesisClient({
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:4566',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: string | Uint8Array }) => {
        const raw = request.body ?? '';
        const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        const captured = { target: request.headers['x-amz-target'], contentType: request.headers['content-type'], body };
        sent.push(captured);
        const res = answer(captured);
        return { response: { statusCode: res.status, headers: res.headers, body: new Uint8Array(res.body) } };
      },
    },
  });
  return { kinesis, sent };
}

describe('JSON 1.1 with the AWS SDK for JavaScript', () => {
  it('PutRecords: the SDK’s request reads as the records it was given', async () => {
    const { kinesis, sent } = client(() =>
      encodeResponse('json', {
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: '49' + '0'.repeat(54), ShardId: 'shardId-000000000000' },
          { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000001' },
        ],
      }),
    );
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'orders',
        Records: [
          { Data: Buffer.from([0, 1, 255]), PartitionKey: 'a' },
          { Data: new TextEncoder().encode('{"x":1}'), PartitionKey: 'b', ExplicitHashKey: '42' },
        ],
      }),
    );
    const [req] = sent;
    const format = wireFormatOf(req.contentType)!;
    expect([format, operationOf(req.target)]).toEqual(['json', 'PutRecords']);
    expect(readRequest('PutRecords', format, decodeBody(format, req.body))).toEqual({
      streamName: 'orders',
      records: [
        { data: Buffer.from([0, 1, 255]), partitionKey: 'a', explicitHashKey: undefined },
        { data: Buffer.from('{"x":1}'), partitionKey: 'b', explicitHashKey: '42' },
      ],
    });
    expect(out.FailedRecordCount).toBe(1);
    expect(out.Records?.[1].ErrorCode).toBe('ProvisionedThroughputExceededException');
  });

  it('GetShardIterator AT_TIMESTAMP: the SDK’s timestamp reads as the same instant', async () => {
    const { kinesis, sent } = client(() => encodeResponse('json', { ShardIterator: 'it' }));
    const at = new Date(1_700_000_000_123);
    await kinesis.send(
      new GetShardIteratorCommand({ StreamName: 'orders', ShardId: 'shardId-000000000001', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: at }),
    );
    expect(readRequest('GetShardIterator', 'json', decodeBody('json', sent[0].body)).timestamp).toEqual(at);
  });

  it('GetRecords: the SDK reads the data as bytes and the arrival time as a Date', async () => {
    const at = new Date(1_700_000_000_123);
    const { kinesis } = client(() =>
      encodeResponse('json', {
        Records: [{ SequenceNumber: '49' + '1'.repeat(54), ApproximateArrivalTimestamp: at, Data: Buffer.from([0, 255, 10]), PartitionKey: 'k' }],
        NextShardIterator: 'next',
        MillisBehindLatest: 2 ** 40,
      }),
    );
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' }));
    expect(out.Records?.[0].ApproximateArrivalTimestamp).toEqual(at);
    expect(Buffer.from(out.Records![0].Data!)).toEqual(Buffer.from([0, 255, 10]));
    expect([out.NextShardIterator, out.MillisBehindLatest]).toEqual(['next', 2 ** 40]);
  });

  it('an error answer becomes the SDK’s exception of that name, with the message', async () => {
    const { kinesis } = client(() => encodeError('json', new KinesisApiError('ExpiredIteratorException', 'Iterator expired.')));
    const err = (await kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e)) as KinesisServiceException;
    expect([err.name, err.message, err.$metadata.httpStatusCode]).toEqual(['ExpiredIteratorException', 'Iterator expired.', 400]);
  });

  it('an InternalFailure is a retryable server fault to the SDK', async () => {
    const { kinesis } = client(() => encodeError('json', new Error('boom')));
    const err = (await kinesis.send(new GetRecordsCommand({ ShardIterator: 'it' })).catch((e: unknown) => e)) as KinesisServiceException;
    expect([err.name, err.$fault, err.$metadata.httpStatusCode]).toEqual(['InternalFailure', 'server', 500]);
  });
});
