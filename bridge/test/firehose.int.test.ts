/**
 * kafka → Firehose on the real stack (Kafka + moto Firehose delivering to moto S3).
 */
import { createBucket, createDeliveryStream, deleteBucket, deleteDeliveryStream, getObject, listKeys } from './support/aws';
import { startBridge, writeRoutes } from './support/bridge-run';
import { FaultProxy } from './support/fault-proxy';
import { afterEachCleanup } from '../../test-support/cleanup';
import { createTopics, deleteTopics, produce, testKafka, waitCaughtUp } from '../../test-support/kafka';
import { metricValue } from '../../test-support/metrics';
import { firehoseClient, s3Client, uniqueSuffix } from '../../test-support/stack';
import type { TidewayProcess } from '../../test-support/tideway-process';

jest.setTimeout(240_000);

const kafka = testKafka();
const fh = firehoseClient();
const s3c = s3Client();
let bridge: TidewayProcess | undefined;
afterEach(() => bridge?.kill());
const defer = afterEachCleanup();

async function setup() {
  const id = uniqueSuffix('-');
  const topic = `bridge-fh-${id}`;
  const bucket = `bridge-fh-${id}`;
  const stream = `bridge-fh-${id}`;
  await createTopics(kafka, [{ topic, partitions: 3 }]);
  defer(() => deleteTopics(kafka, [topic]));
  await createBucket(s3c, bucket);
  defer(() => deleteBucket(s3c, bucket));
  await createDeliveryStream(fh, stream, bucket, 'txn/');
  defer(() => deleteDeliveryStream(fh, stream));
  return { topic, bucket, stream, route: `fh-${id}`, group: `tideway-bridge-fh-${id}` };
}

/** Every line of every object the delivery stream wrote. */
async function deliveredLines(bucket: string): Promise<string[]> {
  const lines: string[] = [];
  for (const key of await listKeys(s3c, bucket, 'txn/'))
    lines.push(
      ...(await getObject(s3c, bucket, key))
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  return lines;
}

const txns = (topic: string, n: number) =>
  Array.from({ length: n }, (_, seq) => ({ topic, key: `cliente-${seq % 17}`, value: JSON.stringify({ txn: `TXN${seq}`, seq, monto: seq * 10 }) }));

test('the delivery stream’s S3 destination holds every record, newline-delimited', async () => {
  const { topic, bucket, stream, route, group } = await setup();
  const msgs = txns(topic, 1500);
  await produce(kafka, msgs);
  bridge = await startBridge(writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    firehose: { deliveryStream: ${stream} }\n`));
  await waitCaughtUp(kafka, group, topic, 120_000);
  const lines = await deliveredLines(bucket);
  expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq).sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
  expect(metricValue(await bridge.metrics(), 'tideway_bridge_records_delivered_total', { route, destination: 'firehose' })).toBe(1500);
});

test('FailedPutCount, throttled and failing calls are retried: every record exactly once', async () => {
  const { topic, bucket, stream, route, group } = await setup();
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_FIREHOSE!, {
    recordFailure: 0.3,
    throttle: 0.1,
    serverError: 0.05,
    applyTo: (t) => t.endsWith('.PutRecordBatch'),
  }).start();
  defer(() => proxy.stop());
  const msgs = txns(topic, 1200);
  await produce(kafka, msgs);
  bridge = await startBridge(writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    firehose: { deliveryStream: ${stream} }\n`), {
    AWS_ENDPOINT_URL_FIREHOSE: proxy.url,
  });
  await waitCaughtUp(kafka, group, topic, 120_000);
  const lines = await deliveredLines(bucket);
  expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq).sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
  expect(proxy.stats.recordsFailed).toBeGreaterThan(0);
  expect(proxy.stats.throttled + proxy.stats.serverErrors).toBeGreaterThan(0);
  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_retries_total', { route, error_code: 'ServiceUnavailableException' })).toBe(proxy.stats.recordsFailed);
  expect(metricValue(metrics, 'tideway_bridge_records_delivered_total', { route })).toBe(1200);
});

test('packing puts several records in one Firehose record; the delivered lines are the same', async () => {
  const { topic, bucket, stream, route, group } = await setup();
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_FIREHOSE!, {
    recordFailure: 0,
    throttle: 0,
    serverError: 0,
    applyTo: (t) => t.endsWith('.PutRecordBatch'),
  }).start();
  defer(() => proxy.stop());
  const msgs = txns(topic, 1000);
  await produce(kafka, msgs);
  bridge = await startBridge(
    writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    firehose: { deliveryStream: ${stream}, packing: { maxBytes: 5120 } }\n`),
    { AWS_ENDPOINT_URL_FIREHOSE: proxy.url },
  );
  await waitCaughtUp(kafka, group, topic, 120_000);
  const lines = await deliveredLines(bucket);
  expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq).sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
  // ~45-byte records packed into ≤ 5 KiB Firehose records: far fewer billed records than Kafka records.
  expect(proxy.stats.recordsForwarded).toBeLessThan(msgs.length / 10);
});
