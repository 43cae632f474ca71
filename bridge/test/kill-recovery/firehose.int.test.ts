/**
 * kafka → Firehose with SIGKILLs mid-stream (Kafka + moto Firehose delivering to moto S3, behind a
 * slowing, partly failing proxy, so several PutRecordBatch calls are in flight when the bridge dies).
 */
import { uniqueName } from '../../../test-support/stack';
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { createBucket, createDeliveryStream, deleteBucket, deleteDeliveryStream, firehose, getObject, listKeys, s3 } from '../support/aws';
import { startBridge, writeRoutes } from '../support/bridge-run';
import { FaultProxy } from '../support/fault-proxy';
import { compareDelivery, keyedRecords, killSeed, runWithKills, type KeyedRecord } from '../support/kill-recovery';
import { createTopics, deleteTopics, testKafka } from '../support/kafka';

jest.setTimeout(240_000);

const kafka = testKafka();
const fh = firehose();
const s3c = s3();
const cleanups: Array<() => Promise<unknown>> = [];
let bridge: TidewayProcess | undefined;

afterEach(async () => {
  if (bridge) await bridge.kill();
  bridge = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const seed = killSeed();

test(`firehose: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives`, async () => {
  const name = uniqueName('bk-fh');
  const topic = name;
  const route = name;
  await createTopics(kafka, [{ topic, partitions: 3 }]);
  cleanups.push(() => deleteTopics(kafka, [topic]));
  await createBucket(s3c, name);
  cleanups.push(() => deleteBucket(s3c, name));
  await createDeliveryStream(fh, name, name, 'out/');
  cleanups.push(() => deleteDeliveryStream(fh, name));
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_FIREHOSE!, {
    recordFailure: 0.1,
    throttle: 0,
    serverError: 0,
    delayMs: 150,
    applyTo: (target) => target.endsWith('.PutRecordBatch'),
  }).start();
  cleanups.push(() => proxy.stop());
  const messages = keyedRecords(topic, 2500, 24);
  const routes = writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    firehose: { deliveryStream: ${name} }\n`);
  const run = await runWithKills(
    {
      label: 'firehose',
      route,
      group: `tideway-bridge-${route}`,
      topic,
      kafka,
      messages,
      seed,
      kills: 4,
      backlog: 300,
      start: () => startBridge(routes, { AWS_ENDPOINT_URL_FIREHOSE: proxy.url, BRIDGE_SESSION_TIMEOUT_MS: '6000', BRIDGE_RETRY_INITIAL_MS: '300', LOG_LEVEL: 'warn' }),
    },
    (b) => (bridge = b),
  );
  const got: KeyedRecord[] = [];
  for (const key of await listKeys(s3c, name, 'out/')) {
    for (const line of (await getObject(s3c, name, key)).toString('utf8').split('\n')) if (line !== '') got.push(JSON.parse(line) as KeyedRecord);
  }
  const d = compareDelivery(messages.map((m) => m.record), got);
  console.log(`firehose: seed ${seed}, ${run.points.length} kills (${run.points.filter((p) => p.reached).length} at their point), ${d.distinct}/${messages.length} ids, ${d.duplicates} duplicates, ${run.ms} ms`);
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
});
