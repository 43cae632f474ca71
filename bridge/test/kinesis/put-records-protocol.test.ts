import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { Readable } from 'node:stream';
import { KinesisProtocol, putRecordsBody } from '../../src/kinesis/put-records-protocol';

/** Deterministic pseudo-random numbers (the cases are the same in every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEY_ALPHABET = ['a', 'Z', '0', '"', '\\', '\n', '\u0001', 'ñ', '€', '😀', ' ', '/', '\u2028'];

function randomInput(random: () => number): PutRecordsCommandInput {
  const n = Math.floor(random() * 20);
  const Records = Array.from({ length: n }, () => {
    const len = [0, 1, 2, 3, 4, 1024, Math.floor(random() * 5000)][Math.floor(random() * 7)];
    const Data = Buffer.alloc(len);
    for (let i = 0; i < len; i++) Data[i] = Math.floor(random() * 256);
    const keyLen = 1 + Math.floor(random() * 12);
    const PartitionKey = Array.from({ length: keyLen }, () => KEY_ALPHABET[Math.floor(random() * KEY_ALPHABET.length)]).join('');
    return random() < 0.2 ? { Data, PartitionKey, ExplicitHashKey: String(Math.floor(random() * 1e15)) } : { Data, PartitionKey };
  });
  return random() < 0.3 ? { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s"1', Records } : { StreamName: `stream-${n}`, Records };
}

/** What the AWS JSON protocol sends for the input: blobs as base64 strings. */
function asJson(input: PutRecordsCommandInput): unknown {
  return {
    ...input,
    Records: input.Records!.map((r) => ({ ...r, Data: Buffer.from(r.Data!).toString('base64') })),
  };
}

describe('putRecordsBody', () => {
  it('is JSON.stringify of the request with base64 data, byte for byte, over 300 random requests', () => {
    const random = lcg(7);
    for (let i = 0; i < 300; i++) {
      const input = randomInput(random);
      const body = putRecordsBody(input);
      expect(body.toString('utf8')).toBe(JSON.stringify(asJson(input)));
    }
  });

  it('takes data given as a Uint8Array view into a larger buffer', () => {
    const backing = Buffer.from('xxhello worldxx');
    const Data = new Uint8Array(backing.buffer, backing.byteOffset + 2, 11);
    expect(JSON.parse(putRecordsBody({ StreamName: 's', Records: [{ Data, PartitionKey: 'k' }] }).toString()).Records[0].Data).toBe(
      Buffer.from('hello world').toString('base64'),
    );
  });
});

/**
 * The SDK's client with its stock protocol and with KinesisProtocol, both answered by a handler that
 * records each request and replies with a canned answer: what reaches the wire and what the caller
 * gets back must be the same.
 */
function clientWith(protocol: typeof KinesisProtocol | undefined, answer: () => HttpResponse) {
  const requests: HttpRequest[] = [];
  const client = new KinesisClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    ...(protocol ? { protocol } : {}),
    requestHandler: {
      handle: async (request: HttpRequest) => {
        requests.push(request);
        return { response: answer() };
      },
    },
  });
  return { client, requests };
}

function response(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return new HttpResponse({
    statusCode,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1', ...headers },
    body: Readable.from([Buffer.from(JSON.stringify(body))]),
  });
}

const SIGNED_PER_CALL = new Set(['authorization', 'x-amz-date', 'amz-sdk-invocation-id', 'amz-sdk-request', 'content-length', 'x-amz-content-sha256']);

function wireHeaders(r: HttpRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(r.headers).filter(([k]) => !SIGNED_PER_CALL.has(k.toLowerCase())));
}

function bodyText(r: HttpRequest): string {
  const body = r.body as Uint8Array | string;
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

describe('KinesisProtocol', () => {
  const input: PutRecordsCommandInput = {
    StreamName: 'orders',
    Records: [
      { Data: Buffer.from('{"id":1}'), PartitionKey: 'a' },
      { Data: Buffer.alloc(1000, 7), PartitionKey: 'ñ"\\' },
    ],
  };
  const ok = {
    FailedRecordCount: 1,
    Records: [
      { SequenceNumber: '49590338271490256608559692538361571095921575989136588898', ShardId: 'shardId-000000000000' },
      { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' },
    ],
    EncryptionType: 'NONE',
  };

  it('sends PutRecords to the same endpoint with the same headers and an equal body, and reads the same answer', async () => {
    const stock = clientWith(undefined, () => response(200, ok));
    const fast = clientWith(KinesisProtocol, () => response(200, ok));
    const a = await stock.client.send(new PutRecordsCommand(input));
    const b = await fast.client.send(new PutRecordsCommand(input));
    const [ra, rb] = [stock.requests[0], fast.requests[0]];
    expect({ ...rb, headers: wireHeaders(rb), body: undefined }).toEqual({ ...ra, headers: wireHeaders(ra), body: undefined });
    expect(JSON.parse(bodyText(rb))).toEqual(JSON.parse(bodyText(ra)));
    expect(Number(rb.headers['content-length'])).toBe(Buffer.byteLength(bodyText(rb)));
    expect(rb.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kinesis\/aws4_request/);
    expect(b).toEqual(a);
    expect(b.Records![1].ErrorCode).toBe('ProvisionedThroughputExceededException');
  });

  it('leaves an error answer to the SDK: the same exception, by name and message', async () => {
    const err = { __type: 'ResourceNotFoundException', message: 'Stream orders under account 000000000000 not found.' };
    const stock = clientWith(undefined, () => response(400, err));
    const fast = clientWith(KinesisProtocol, () => response(400, err));
    const a = await stock.client.send(new PutRecordsCommand(input)).catch((e: Error) => e);
    const b = await fast.client.send(new PutRecordsCommand(input)).catch((e: Error) => e);
    expect(b).toBeInstanceOf(Error);
    expect([(b as Error).name, (b as Error).message]).toEqual([(a as Error).name, (a as Error).message]);
    expect((b as Error).name).toBe('ResourceNotFoundException');
  });

  it('leaves every other operation to the SDK', async () => {
    const summary = { StreamDescriptionSummary: { StreamName: 'orders', StreamStatus: 'ACTIVE', OpenShardCount: 2 } };
    const fast = clientWith(KinesisProtocol, () => response(200, summary));
    const { DescribeStreamSummaryCommand } = await import('@aws-sdk/client-kinesis');
    const out = await fast.client.send(new DescribeStreamSummaryCommand({ StreamName: 'orders' }));
    expect(out.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(fast.requests[0].headers['x-amz-target']).toBe('Kinesis_20131202.DescribeStreamSummary');
  });
});
