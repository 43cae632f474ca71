/**
 * The AWS SDK for JavaScript v3, unchanged, against `tideway kinesis-api` on the local stack's
 * Kafka: streams, records put and read back on the shards the MD5 map gives, every iterator type,
 * retention as the topic's retention.ms, tags, partial failures under shard limits, an expired
 * iterator and requests refused by the signature check.
 */
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RemoveTagsFromStreamCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
  type _Record,
} from '@aws-sdk/client-kinesis';
import type { KafkaClient } from '@tideway/runtime';
import { createTopics, deleteTopicsWithPrefix, produce, testKafka } from '../../../test-support/kafka';
import { readStream, type StreamRecord } from '../../../test-support/kinesis-read';
import { metricValue } from '../../../test-support/metrics';
import { seededRandom } from '../../../test-support/seeded-random';
import { uniqueName } from '../../../test-support/stack';
import { waitFor } from '../../../test-support/wait';
import { shardForRecord, shardId } from '../src/shard-map';
import { ACCESS_KEY_ID, startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';

jest.setTimeout(300_000);

const kafka: KafkaClient = testKafka();

/** An admin request of the test's own, retried while the broker answers a transient error (a topic just created, a leader moving). */
function withAdmin<T>(fn: (admin: ReturnType<KafkaClient['admin']>) => Promise<T>): Promise<T> {
  return waitFor(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return { value: await fn(admin) };
      } finally {
        await admin.disconnect();
      }
    },
    { timeoutMs: 60_000, what: 'an admin request' },
  ).then((r) => r.value);
}

const endOffsets = (topic: string) => withAdmin(async (admin) => (await admin.endOffsets(topic)).map((o) => o.offset));
const topicRetentionMs = (topic: string) => withAdmin(async (admin) => (await admin.topicConfigs(topic, ['retention.ms']))['retention.ms']);

async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
}

/** Reads a shard from an iterator until a read comes back empty at the end. */
async function readFrom(client: KinesisClient, iterator: string | undefined): Promise<_Record[]> {
  const out: _Record[] = [];
  for (let it = iterator; it;) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
    out.push(...(r.Records ?? []));
    if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0) break;
    it = r.NextShardIterator;
  }
  return out;
}

async function iterator(client: KinesisClient, stream: string, shard: string, type: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ShardIteratorType: type as never, ...extra }));
  return r.ShardIterator!;
}

async function deleteAllStreams(api: KinesisApi): Promise<void> {
  const client = api.client();
  try {
    const names = (await client.send(new ListStreamsCommand({}))).StreamNames ?? [];
    for (const name of names) await client.send(new DeleteStreamCommand({ StreamName: name })).catch(() => undefined);
  } finally {
    client.destroy();
  }
  await deleteTopicsWithPrefix(kafka, [api.prefix]);
}

describe('kinesis-api with the AWS SDK for JavaScript v3', () => {
  let api: KinesisApi;
  let client: KinesisClient;

  beforeAll(async () => {
    api = await startKinesisApi();
    client = api.client();
  });

  afterAll(async () => {
    client?.destroy();
    if (api) {
      // Through the API, so the streams' metadata records are removed too; a failing cleanup fails no test.
      await deleteAllStreams(api).catch(() => undefined);
      await api.proc.stop();
    }
  });

  it('puts 2,000 records with PutRecord and PutRecords and reads every one back on its MD5 shard, in order per key', async () => {
    const stream = uniqueName('orders');
    const shards = 4;
    await createStream(client, stream, shards);
    const description = (await client.send(new DescribeStreamCommand({ StreamName: stream }))).StreamDescription!;
    expect(description.StreamStatus).toBe('ACTIVE');
    expect(description.Shards!.map((s) => s.ShardId)).toEqual([0, 1, 2, 3].map(shardId));
    expect(description.Shards![0].HashKeyRange!.StartingHashKey).toBe('0');
    expect(description.Shards![3].HashKeyRange!.EndingHashKey).toBe(((1n << 128n) - 1n).toString());
    expect(description.StreamARN).toBe(`arn:aws:kinesis:eu-west-1:000000000000:stream/${stream}`);

    const random = seededRandom(16);
    const keys = Array.from({ length: 37 }, (_, i) => `customer-${i}`);
    const counters = new Map<string, number>();
    const next = () => {
      const key = random.pick(keys);
      const n = (counters.get(key) ?? 0) + 1;
      counters.set(key, n);
      // Random bytes of random length after a readable header: every byte must come back as sent.
      const body = Buffer.from(Array.from({ length: random.int(300) }, () => random.int(256)));
      return { key, data: Buffer.concat([Buffer.from(`${key}#${n}|`), body]) };
    };
    const sentSequence = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      const r = next();
      const out = await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: r.key, Data: r.data }));
      expect(out.ShardId).toBe(shardId(shardForRecord(r.key, shards)));
      sentSequence.set(r.data.toString('latin1'), out.SequenceNumber!);
    }
    for (let batch = 0; batch < 3; batch++) {
      const records = Array.from({ length: 500 }, next);
      const out = await client.send(
        new PutRecordsCommand({ StreamName: stream, Records: records.map((r): PutRecordsRequestEntry => ({ PartitionKey: r.key, Data: r.data })) }),
      );
      expect(out.FailedRecordCount).toBe(0);
      out.Records!.forEach((e, i) => {
        expect(e.ShardId).toBe(shardId(shardForRecord(records[i].key, shards)));
        sentSequence.set(records[i].data.toString('latin1'), e.SequenceNumber!);
      });
    }

    const read: StreamRecord[] = await readStream(client, stream);
    expect(read).toHaveLength(2000);
    const seenPerKey = new Map<string, number>();
    for (const r of read) {
      const header = r.data.toString('latin1').split('|')[0];
      const [key, n] = header.split('#');
      expect(r.partitionKey).toBe(key);
      expect(r.shardId).toBe(shardId(shardForRecord(key, shards)));
      // Exact bytes and the very record the put answered for.
      expect(r.sequenceNumber).toBe(sentSequence.get(r.data.toString('latin1')));
      expect(Number(n)).toBe((seenPerKey.get(key) ?? 0) + 1);
      seenPerKey.set(key, Number(n));
    }
    expect(seenPerKey).toEqual(counters);
  });

  it('positions iterators at and after a sequence number, at a time and at the latest record', async () => {
    const stream = uniqueName('positions');
    await createStream(client, stream, 1);
    const shard = shardId(0);
    const put = (data: string) => client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(data) }));
    const first = [await put('a0'), await put('a1'), await put('a2')];
    const data = (records: _Record[]) => records.map((r) => Buffer.from(r.Data!).toString());

    expect(
      data(await readFrom(client, await iterator(client, stream, shard, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: first[1].SequenceNumber }))),
    ).toEqual(['a1', 'a2']);
    expect(
      data(await readFrom(client, await iterator(client, stream, shard, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: first[1].SequenceNumber }))),
    ).toEqual(['a2']);

    // Records put after `at` arrive at or after it (the same clock); the ones before, before it. The
    // SDK sends whole epoch seconds, so `at` is the first whole second after the earlier records.
    const lastBefore = (await readFrom(client, await iterator(client, stream, shard, 'TRIM_HORIZON'))).at(-1)!.ApproximateArrivalTimestamp!.getTime();
    const at = (Math.floor(lastBefore / 1000) + 1) * 1000;
    await waitFor(() => Date.now() >= at, { intervalMs: 20 });
    const latest = await iterator(client, stream, shard, 'LATEST');
    await put('b0');
    await put('b1');
    expect(data(await readFrom(client, await iterator(client, stream, shard, 'AT_TIMESTAMP', { Timestamp: new Date(at) })))).toEqual(['b0', 'b1']);
    expect(data(await readFrom(client, latest))).toEqual(['b0', 'b1']);
    expect(data(await readFrom(client, await iterator(client, stream, shard, 'TRIM_HORIZON')))).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
  });

  it('keeps retention in the topic’s retention.ms, keeps tags, lists and deletes streams', async () => {
    const stream = uniqueName('admin');
    const topic = api.prefix + stream;
    await createStream(client, stream, 2);
    expect(await topicRetentionMs(topic)).toBe(String(24 * 3_600_000));
    await client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: stream, RetentionPeriodHours: 72 }));
    expect(await topicRetentionMs(topic)).toBe(String(72 * 3_600_000));
    await expect(client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: stream, RetentionPeriodHours: 48 }))).rejects.toMatchObject({
      name: 'InvalidArgumentException',
    });
    await client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: stream, RetentionPeriodHours: 48 }));
    expect(await topicRetentionMs(topic)).toBe(String(48 * 3_600_000));
    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!;
    expect(summary).toMatchObject({ StreamName: stream, RetentionPeriodHours: 48, OpenShardCount: 2, StreamStatus: 'ACTIVE' });

    await client.send(new AddTagsToStreamCommand({ StreamName: stream, Tags: { team: 'risk', env: 'test', tier: 'gold' } }));
    await client.send(new RemoveTagsFromStreamCommand({ StreamName: stream, TagKeys: ['tier'] }));
    // Another client instance sees the same tags: they live in Kafka, not in a process.
    const other = api.client({ http1: true });
    try {
      expect((await other.send(new ListTagsForStreamCommand({ StreamName: stream }))).Tags).toEqual([
        { Key: 'env', Value: 'test' },
        { Key: 'team', Value: 'risk' },
      ]);
    } finally {
      other.destroy();
    }

    expect((await client.send(new ListStreamsCommand({}))).StreamNames).toContain(stream);
    await expect(createStream(client, stream, 1)).rejects.toMatchObject({ name: 'ResourceInUseException' });
    await client.send(new DeleteStreamCommand({ StreamName: stream }));
    await waitFor(async () => !((await client.send(new ListStreamsCommand({}))).StreamNames ?? []).includes(stream), { timeoutMs: 60_000 });
    await expect(client.send(new DescribeStreamCommand({ StreamName: stream }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('reads a topic written by other Kafka producers: keyless records, committed transactions only, no tombstones', async () => {
    const stream = uniqueName('foreign');
    const topic = api.prefix + stream;
    await createTopics(kafka, [{ topic, partitions: 1 }]);
    await produce(kafka, [
      { topic, key: null, value: 'keyless' },
      { topic, key: 'gone', value: null },
    ]);
    const producer = kafka.producer({ transactionalId: uniqueName('kapi-tx') });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send([{ topic, key: 'k', value: 'aborted' }]);
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send([{ topic, key: 'k', value: 'committed' }]);
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    const records = await readFrom(client, await iterator(client, stream, shardId(0), 'TRIM_HORIZON'));
    expect(records.map((r) => [r.PartitionKey, Buffer.from(r.Data!).toString()])).toEqual([
      ['', 'keyless'],
      ['k', 'committed'],
    ]);
    expect((await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary).toMatchObject({
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      OpenShardCount: 1,
    });
  });

  it('answers requests it cannot serve in the AWS error shape', async () => {
    const post = (headers: Record<string, string>, body: string | Buffer) => fetch(api.endpoint, { method: 'POST', headers, body });
    const json = { 'content-type': 'application/x-amz-json-1.1' };
    const unsigned = await post({ ...json, 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{}');
    expect(unsigned.status).toBe(400);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const tooLarge = await post({ ...json, 'x-amz-target': 'Kinesis_20131202.PutRecords' }, Buffer.alloc(17 * 1024 * 1024, 0x20));
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.headers.get('x-amzn-errortype')).toBe('InvalidArgumentException');
    await expect(client.send(new MergeShardsCommand({ StreamName: 'any', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      message: expect.stringContaining('MergeShards is not supported'),
    });
  });

  it('refuses a wrong secret and an unknown key with the AWS error names, and writes nothing', async () => {
    const stream = uniqueName('auth');
    await createStream(client, stream, 2);
    const wrongSecret = api.client({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
    const unknownKey = api.client({ credentials: { accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: 'whatever' }, maxAttempts: 1 });
    try {
      const put = new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from('x') });
      const puts = new PutRecordsCommand({ StreamName: stream, Records: [{ PartitionKey: 'k', Data: Buffer.from('y') }] });
      await expect(wrongSecret.send(put)).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      await expect(wrongSecret.send(puts)).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      await expect(unknownKey.send(put)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      await expect(unknownKey.send(puts)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
    expect(await endOffsets(api.prefix + stream)).toEqual(['0', '0']);
    const metrics = await api.proc.metrics();
    expect(metricValue(metrics, 'tideway_kinesis_api_auth_failures_total', { error: 'InvalidSignatureException' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'tideway_kinesis_api_auth_failures_total', { error: 'UnrecognizedClientException' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation: 'PutRecords', format: 'json', outcome: 'ok' })).toBeGreaterThan(0);
  });
});

describe('kinesis-api with shard limits and a short iterator lifetime', () => {
  let api: KinesisApi;
  let client: KinesisClient;

  beforeAll(async () => {
    api = await startKinesisApi({
      env: { KINESIS_API_SHARD_LIMITS: 'true', KINESIS_API_WRITE_RECORDS_PER_SHARD: '20', KINESIS_API_ITERATOR_TTL: '2s' },
    });
    client = api.client({ http1: true });
  });

  afterAll(async () => {
    client?.destroy();
    if (api) {
      // Through the API, so the streams' metadata records are removed too; a failing cleanup fails no test.
      await deleteAllStreams(api).catch(() => undefined);
      await api.proc.stop();
    }
  });

  it('reports the records over a shard’s rate as failed entries; retrying them gets every record in once', async () => {
    const stream = uniqueName('throttled');
    await createStream(client, stream, 2);
    const all = Array.from({ length: 400 }, (_, i) => ({ PartitionKey: `k${i % 50}`, Data: Buffer.from(`r${i}`) }));
    let pending: PutRecordsRequestEntry[] = all;
    let firstFailed: number | undefined;
    const errorCodes = new Set<string>();
    await waitFor(
      async () => {
        const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
        firstFailed ??= out.FailedRecordCount;
        out.Records!.forEach((e) => e.ErrorCode && errorCodes.add(e.ErrorCode));
        pending = pending.filter((_, i) => out.Records![i].ErrorCode !== undefined);
        expect(pending).toHaveLength(out.FailedRecordCount!);
        return pending.length === 0;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'every record in' },
    );
    // Two shards of 20 records/s cannot take 400 records in one request.
    expect(firstFailed).toBeGreaterThan(0);
    expect([...errorCodes]).toEqual(['ProvisionedThroughputExceededException']);
    const read = await readStream(client, stream);
    expect(read.map((r) => r.data.toString()).sort()).toEqual(all.map((r) => r.Data.toString()).sort());
    expect(metricValue(await api.proc.metrics(), 'tideway_kinesis_api_throttled_total', { direction: 'write' })).toBeGreaterThanOrEqual(firstFailed!);
  });

  it('answers ExpiredIteratorException for an iterator older than its lifetime', async () => {
    const stream = uniqueName('expiry');
    await createStream(client, stream, 1);
    const it = await iterator(client, stream, shardId(0), 'TRIM_HORIZON');
    await new Promise((r) => setTimeout(r, 3000));
    await expect(client.send(new GetRecordsCommand({ ShardIterator: it }))).rejects.toMatchObject({ name: 'ExpiredIteratorException' });
    // A fresh one works.
    expect((await client.send(new GetRecordsCommand({ ShardIterator: await iterator(client, stream, shardId(0), 'TRIM_HORIZON') }))).Records).toEqual([]);
  });
});
