/**
 * Start-up, readiness and independence of routes, on the real stack.
 */
import { createBucket, createStream, deleteBucket, deleteStream, listKeys } from './support/aws';
import { startBridge, writeRoutes } from './support/bridge-run';
import { afterEachCleanup } from '../../test-support/cleanup';
import { createTopics, deleteTopics, produce, testKafka, waitCaughtUp } from '../../test-support/kafka';
import { readStream } from '../../test-support/kinesis-read';
import { kinesisClient, s3Client, uniqueSuffix } from '../../test-support/stack';
import { runTidewaySync, type TidewayProcess } from '../../test-support/tideway-process';

jest.setTimeout(240_000);

const kafka = testKafka();
const kin = kinesisClient();
const s3c = s3Client();
let bridge: TidewayProcess | undefined;
afterEach(() => bridge?.kill());
const defer = afterEachCleanup();

test('an invalid routes file exits 2 with one line naming the route and field', () => {
  const file = writeRoutes('routes:\n  - name: orders-out\n    topics: [orders]\n    kinesis: { stream: s, partitionKey: customer }\n');
  const r = runTidewaySync(['bridge'], { BRIDGE_ROUTES: file, METRICS_PORT: '0' });
  expect(r.status).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('tideway bridge:'));
  expect(lines).toEqual([`tideway bridge: ${file}: route "orders-out" kinesis.partitionKey: must be key, hash, random or field:<path>, got "customer"`]);
});

test('a missing destination makes its route unready without stalling another route; it recovers once created', async () => {
  const id = uniqueSuffix('-');
  const topicA = `bridge-life-a-${id}`;
  const topicB = `bridge-life-b-${id}`;
  const missing = `bridge-life-missing-${id}`;
  const created = `bridge-life-created-${id}`;
  const bucket = `bridge-life-${id}`;
  await createTopics(kafka, [
    { topic: topicA, partitions: 1 },
    { topic: topicB, partitions: 2 },
  ]);
  defer(() => deleteTopics(kafka, [topicA, topicB]));
  await createBucket(s3c, bucket);
  defer(() => deleteBucket(s3c, bucket));
  defer(() => deleteStream(kin, missing));
  defer(() => deleteStream(kin, created));
  await produce(
    kafka,
    Array.from({ length: 200 }, (_, i) => ({ topic: topicA, key: `k${i % 3}`, value: JSON.stringify({ i }) })),
  );
  await produce(
    kafka,
    Array.from({ length: 300 }, (_, i) => ({ topic: topicB, key: `k${i % 3}`, value: JSON.stringify({ i }) })),
  );
  const yaml = `routes:
  - name: to-missing-${id}
    topics: [${topicA}]
    kinesis: { stream: ${missing} }
  - name: to-s3-${id}
    topics: [${topicB}]
    s3: { bucket: ${bucket}, prefix: "b/", bufferingHints: { sizeInMBs: 1, intervalInSeconds: 1 } }
  - name: to-created-${id}
    topics: [${topicB}]
    kinesis: { stream: ${created}, create: { shards: 2 } }
`;
  bridge = await startBridge(writeRoutes(yaml));
  // The healthy routes deliver everything while the missing stream's route waits.
  await waitCaughtUp(kafka, `tideway-bridge-to-s3-${id}`, topicB, 60_000).catch((err) => {
    throw new Error(`${err}\n${bridge!.logs(100)}`);
  });
  await waitCaughtUp(kafka, `tideway-bridge-to-created-${id}`, topicB, 120_000);
  expect((await listKeys(s3c, bucket, 'b/')).length).toBeGreaterThan(0);
  expect((await readStream(kin, created)).length).toBe(300);
  const ready = await fetch(`${bridge.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, boolean> }).checks).toMatchObject({
    [`route:to-missing-${id}`]: false,
    [`route:to-s3-${id}`]: true,
    [`route:to-created-${id}`]: true,
  });
  expect(bridge.logs(200).replace(/\\"/g, '"')).toContain(`route "to-missing-${id}": Kinesis stream "${missing}" does not exist`);
  expect(bridge.child.exitCode).toBeNull();

  await createStream(kin, missing, 1);
  await bridge.waitReady(120_000);
  await waitCaughtUp(kafka, `tideway-bridge-to-missing-${id}`, topicA, 120_000);
  expect((await readStream(kin, missing)).length).toBe(200);
  // SIGTERM: graceful stop, exit 0.
  expect(await bridge.stop()).toBe(0);
  bridge = undefined;
});
