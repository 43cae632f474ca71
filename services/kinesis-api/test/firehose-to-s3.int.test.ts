/**
 * Firehose end to end on real processes: an application writes with @aws-sdk/client-firehose to
 * `tideway kinesis-api`, and `tideway bridge` delivers the delivery stream's topic to S3 (the
 * stack's moto) through an s3 route; every record is found in the bucket's objects.
 */
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, PutRecordCommand } from '@aws-sdk/client-firehose';
import { startBridge, writeRoutes } from '../../../test-support/bridge-process';
import { afterEachCleanup } from '../../../test-support/cleanup';
import { deleteTopicsWithPrefix, testKafka, waitCaughtUp } from '../../../test-support/kafka';
import { startKinesisApi } from '../../../test-support/kinesis-api-process';
import { createBucket, deleteBucket, getObject, listKeys } from '../../../test-support/s3';
import { s3Client, uniqueName, uniqueSuffix } from '../../../test-support/stack';

jest.setTimeout(300_000);

const kafka = testKafka();
const s3 = s3Client();
const defer = afterEachCleanup();
afterAll(() => s3.destroy());

it('records put through the Firehose API reach S3 through the bridge s3 route, every one of them', async () => {
  const api = await startKinesisApi({ env: { KINESIS_API_FIREHOSE_PARTITIONS: '2' } });
  defer(() => api.proc.stop());
  defer(() => deleteTopicsWithPrefix(kafka, [api.prefix]));
  const firehose = api.firehose();
  defer(() => firehose.destroy());

  const name = uniqueName('events');
  const topic = api.prefix + name;
  const bucket = `firehose-s3-${uniqueSuffix('-')}`;
  const route = `firehose-s3-${uniqueSuffix('-')}`;
  await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, DeliveryStreamType: 'DirectPut' }));
  await createBucket(s3, bucket);
  defer(() => deleteBucket(s3, bucket));

  // JSON lines as a Firehose application writes them: with and without their own newline.
  const event = (id: number) => Buffer.from(JSON.stringify({ id, page: `/p/${id % 7}` }) + (id % 2 === 0 ? '\n' : ''));
  const ids = Array.from({ length: 1210 }, (_, id) => id);
  for (const id of ids.slice(0, 10)) await firehose.send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: event(id) } }));
  for (let from = 10; from < ids.length; from += 400) {
    const batch = ids.slice(from, from + 400);
    const answer = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: batch.map((id) => ({ Data: event(id) })) }));
    expect(answer.FailedPutCount).toBe(0);
  }

  const bridge = await startBridge(
    writeRoutes(`routes:
  - name: ${route}
    topics: [${topic}]
    s3:
      bucket: ${bucket}
      prefix: "events/"
      compression: none
      bufferingHints: { sizeInMBs: 1, intervalInSeconds: 1 }
`),
  );
  defer(() => bridge.stop());
  await waitCaughtUp(kafka, `tideway-bridge-${route}`, topic, 180_000);

  const keys = await listKeys(s3, bucket, 'events/');
  expect(keys.length).toBeGreaterThan(0);
  const found: number[] = [];
  for (const key of keys) {
    expect(key).toMatch(new RegExp(`^events/${topic.replace(/\./g, '\\.')}\\+[01]\\+\\d{20}\\.json$`));
    const lines = (await getObject(s3, bucket, key))
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    for (const l of lines) found.push((JSON.parse(l) as { id: number }).id);
  }
  // At least once: every record, nothing else (a replay may repeat one).
  expect([...new Set(found)].sort((a, b) => a - b)).toEqual(ids);
});
