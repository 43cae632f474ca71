/**
 * GetRecords answers of megabytes go out as they are made, fetch after fetch, waiting while the
 * client is behind: a client that reads slowly gets the whole answer (chunked, since its length is
 * known only at its end), and clients that go away in the middle of an answer leave the service
 * serving everyone else.
 * Raw HTTP/1.1 on a socket (what boto3 and the aws CLI speak), so that reading can be paused and
 * cut, and the AWS SDK for JavaScript over HTTP/2, against the real service and broker.
 */
import { connect, type Socket } from 'node:net';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  type GetRecordsCommandOutput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { startKinesisApi, type KinesisApi } from '../../../../test-support/kinesis-api-process';
import { seededRandom } from '../../../../test-support/seeded-random';
import { uniqueName } from '../../../../test-support/stack';

const RECORDS = 8_000;
const RECORD_BYTES = 1024;

let api: KinesisApi;
let client: KinesisClient;
const stream = uniqueName('large');
const random = seededRandom(8);
const data = Array.from({ length: RECORDS }, (_, i) => {
  const bytes = Buffer.from(Array.from({ length: RECORD_BYTES }, () => Math.floor(random() * 256)));
  bytes.writeUInt32BE(i, 0);
  return bytes;
});

beforeAll(async () => {
  api = await startKinesisApi({ auth: 'none' });
  client = api.client();
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  for (let i = 0; i < RECORDS; i += 500) {
    const r = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: data.slice(i, i + 500).map((Data, j) => ({ Data, PartitionKey: `k${i + j}` })) }),
    );
    expect(r.FailedRecordCount).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await api?.proc.stop();
});

const iterator = async () =>
  (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator!;

function getRecordsRequest(shardIterator: string): Buffer {
  const body = JSON.stringify({ ShardIterator: shardIterator, Limit: 10_000 });
  const port = new URL(api.endpoint).port;
  return Buffer.from(
    `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-amz-json-1.1\r\n` +
      `X-Amz-Target: Kinesis_20131202.GetRecords\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(api.endpoint).port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** The body of an HTTP/1.1 response: as long as its Content-Length says, or its chunks joined. */
function bodyOf(head: string, rest: Buffer): Buffer {
  const length = /\r\ncontent-length: (\d+)/i.exec(head);
  if (length) {
    expect(rest.length).toBe(Number(length[1]));
    return rest;
  }
  expect(head).toMatch(/\r\ntransfer-encoding: chunked/i);
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n', at);
    const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
    at = lineEnd + 2;
    if (size === 0) break;
    chunks.push(rest.subarray(at, at + size));
    at += size + 2;
  }
  expect(rest.subarray(at).toString('latin1')).toBe('\r\n');
  return Buffer.concat(chunks);
}

function expectAllRecords(records: Array<{ Data?: Uint8Array | string }>) {
  expect(records).toHaveLength(RECORDS);
  records.forEach((r, i) => {
    const bytes = typeof r.Data === 'string' ? Buffer.from(r.Data, 'base64') : Buffer.from(r.Data!);
    if (!bytes.equals(data[i])) throw new Error(`record ${i} came back different`);
  });
}

it('gives a slow reader the whole 8 MiB answer in one GetRecords', async () => {
  const socket = await open();
  socket.pause();
  socket.write(getRecordsRequest(await iterator()));
  // The answer waits on the server while this client reads nothing.
  await new Promise((r) => setTimeout(r, 2_000));
  const raw = readAll(socket);
  socket.resume();
  const response = await raw;
  const headerEnd = response.indexOf('\r\n\r\n');
  const head = response.subarray(0, headerEnd).toString('latin1');
  expect(head).toMatch(/^HTTP\/1\.1 200 /);
  // Read in several fetches, so its length was not known when it started.
  expect(head).toMatch(/\r\ntransfer-encoding: chunked/i);
  const answer = JSON.parse(bodyOf(head, response.subarray(headerEnd + 4)).toString('utf8'));
  expectAllRecords(answer.Records);
  expect(answer.MillisBehindLatest).toBe(0);
  expect(typeof answer.NextShardIterator).toBe('string');
}, 120_000);

it('goes on serving after clients leave in the middle of large answers', async () => {
  for (let i = 0; i < 6; i++) {
    const socket = await open();
    const received = new Promise<void>((resolve) => {
      let bytes = 0;
      socket.on('data', (c: Buffer) => {
        bytes += c.length;
        // Gone after the headers and a part of the body (or at once, before any of it).
        if (bytes >= i * 100_000) {
          socket.destroy();
          resolve();
        }
      });
      socket.once('close', () => resolve());
    });
    socket.write(getRecordsRequest(await iterator()));
    await received;
  }
  // Every answer above was left unfinished; the service serves the whole stream over HTTP/2 still.
  const r = await client.send(new GetRecordsCommand({ ShardIterator: await iterator(), Limit: 10_000 }));
  expectAllRecords(r.Records ?? []);
  expect(api.proc.child.exitCode).toBeNull();
}, 120_000);

it('answers Limit records at most, and the next iterator goes on where the answer ended', async () => {
  const pages: number[] = [];
  const records = [];
  let it: string | undefined = await iterator();
  while (it) {
    const r: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 2_500 }));
    const got = r.Records ?? [];
    pages.push(got.length);
    records.push(...got);
    if (got.length === 0 && r.MillisBehindLatest === 0) break;
    it = r.NextShardIterator;
  }
  expect(pages).toEqual([2_500, 2_500, 2_500, 500, 0]);
  expectAllRecords(records);
}, 120_000);
