/**
 * The AWS SDK for JavaScript v3's Firehose client, unchanged, against `tideway kinesis-api` on the
 * local stack's Kafka: delivery streams as topics, records written without a key and spread over
 * the partitions, a PutRecordBatch with a record over the size limit failing alone, and the
 * Firehose errors clients read.
 */
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  TagDeliveryStreamCommand,
  type FirehoseClient,
} from '@aws-sdk/client-firehose';
import type { IncomingMessage, KafkaClient } from '@tideway/runtime';
import { deleteTopicsWithPrefix, testKafka } from '../../../test-support/kafka';
import { readTopicToEnd } from '../../../test-support/kafka-read';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';
import { metricValue } from '../../../test-support/metrics';
import { uniqueName } from '../../../test-support/stack';
import { waitFor } from '../../../test-support/wait';
import { decodeSequenceNumber } from '../src/sequence-number';

jest.setTimeout(300_000);

const kafka: KafkaClient = testKafka();
const PARTITIONS = 3;

/** The error a call fails with. */
async function failure(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const outcome = await p.then(
    () => undefined,
    (err: Error) => err,
  );
  if (outcome === undefined) throw new Error('the call succeeded; expected it to fail');
  return outcome;
}

/** Every record of the topic, once the offsets the API answered are all readable. */
async function topicRecords(topic: string, count: number): Promise<IncomingMessage[]> {
  return waitFor(
    async () => {
      const all = await readTopicToEnd(kafka, topic);
      return all.length >= count ? all : undefined;
    },
    { timeoutMs: 60_000, what: `${count} records in ${topic}` },
  );
}

describe('kinesis-api serves the Firehose API to @aws-sdk/client-firehose', () => {
  let api: KinesisApi;
  let client: FirehoseClient;

  beforeAll(async () => {
    api = await startKinesisApi({ env: { KINESIS_API_FIREHOSE_PARTITIONS: String(PARTITIONS) } });
    client = api.firehose();
  });

  afterAll(async () => {
    client?.destroy();
    if (api) {
      await deleteTopicsWithPrefix(kafka, [api.prefix]).catch(() => undefined);
      await api.proc.stop();
    }
  });

  it('creates, describes, lists, writes to and deletes a delivery stream; an oversize record fails alone', async () => {
    const name = uniqueName('clicks');
    const topic = api.prefix + name;
    const created = await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: name,
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::000000000000:role/firehose', BucketARN: 'arn:aws:s3:::ignored' },
      }),
    );
    expect(created.DeliveryStreamARN).toBe(`arn:aws:firehose:eu-west-1:000000000000:deliverystream/${name}`);
    expect((await failure(client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name })))).name).toBe('ResourceInUseException');

    const description = (await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }))).DeliveryStreamDescription!;
    expect(description).toMatchObject({
      DeliveryStreamName: name,
      DeliveryStreamARN: created.DeliveryStreamARN,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      Destinations: [],
      HasMoreDestinations: false,
    });
    expect(Math.abs(description.CreateTimestamp!.getTime() - Date.now())).toBeLessThan(3_600_000);
    const listed = await client.send(new ListDeliveryStreamsCommand({ Limit: 100 }));
    expect(listed.DeliveryStreamNames).toEqual([name]);
    expect(listed.HasMoreDeliveryStreams).toBe(false);

    const one = await client.send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: Buffer.from('{"click":0}\n') } }));
    expect(one.Encrypted).toBe(false);

    const small = Array.from({ length: 30 }, (_, i) => Buffer.from(`{"click":${i + 1}}\n`));
    const oversize = Buffer.alloc(1000 * 1024 + 1, 0x61);
    const batch = [...small.slice(0, 10), oversize, ...small.slice(10)];
    const answer = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: batch.map((Data) => ({ Data })) }));
    expect(answer.FailedPutCount).toBe(1);
    expect(answer.Encrypted).toBe(false);
    const responses = answer.RequestResponses!;
    expect(responses).toHaveLength(batch.length);
    expect(responses[10].ErrorCode).toBe('InvalidArgumentException');
    expect(responses[10].ErrorMessage).toContain('exceeds the limit of 1024000 bytes');
    expect(responses[10].RecordId).toBeUndefined();

    // Each RecordId names the Kafka record holding its data, with no key.
    const written = [
      { id: one.RecordId!, data: Buffer.from('{"click":0}\n') },
      ...responses.flatMap((r, i) => (i === 10 ? [] : [{ id: r.RecordId!, data: batch[i] }])),
    ];
    expect(new Set(written.map((w) => w.id)).size).toBe(written.length);
    const records = await topicRecords(topic, written.length);
    expect(records).toHaveLength(written.length);
    const byPosition = new Map(records.map((m) => [`${m.partition}/${m.offset}`, m]));
    for (const w of written) {
      const position = decodeSequenceNumber(w.id);
      expect(position).toBeDefined();
      const m = byPosition.get(`${position!.partition}/${position!.offset}`);
      expect(m?.value).toEqual(w.data);
      expect(m?.key).toBeNull();
    }
    // Spread over the delivery stream's partitions, not all on one.
    expect(new Set(records.map((m) => m.partition)).size).toBe(PARTITIONS);

    const metrics = await api.proc.metrics();
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation: 'Firehose.PutRecordBatch', format: 'json', outcome: 'ok' })).toBe(1);

    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name }));
    expect((await failure(client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name })))).name).toBe('ResourceNotFoundException');
    expect((await client.send(new ListDeliveryStreamsCommand({}))).DeliveryStreamNames).toEqual([]);
  });

  it('answers Firehose errors: a missing delivery stream, a request over the limits, an operation not served', async () => {
    const missing = await failure(client.send(new PutRecordCommand({ DeliveryStreamName: uniqueName('missing'), Record: { Data: Buffer.from('x') } })));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.message).toMatch(/^Firehose missing-\S+ under account 000000000000 not found\.$/);

    const name = uniqueName('limits');
    await client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name }));
    const tooMany = await failure(
      client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') })) })),
    );
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500");
    const tooLarge = await failure(client.send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: Buffer.alloc(1000 * 1024 + 1) } })));
    expect(tooLarge.name).toBe('ValidationException');
    const fiveMiB = Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1000 * 1024) }));
    const tooMuch = await failure(client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: fiveMiB })));
    expect(tooMuch.name).toBe('InvalidArgumentException');

    const unserved = await failure(client.send(new TagDeliveryStreamCommand({ DeliveryStreamName: name, Tags: [{ Key: 'team', Value: 'web' }] })));
    expect(unserved.name).toBe('UnknownOperationException');
    expect(unserved.message).toContain('Operation TagDeliveryStream is not supported. Supported operations: CreateDeliveryStream,');
    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name }));
  });
});
