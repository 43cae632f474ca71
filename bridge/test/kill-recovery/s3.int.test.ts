/**
 * kafka → S3 with SIGKILLs mid-stream (Kafka + moto S3 behind a slowing proxy, so several object
 * writes are in flight, and finish out of order, when the bridge dies).
 */
import { gunzipSync } from 'node:zlib';
import { uniqueName } from '../../../test-support/stack';
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { createBucket, deleteBucket, getObject, listKeys, s3 } from '../support/aws';
import { startBridge, writeRoutes } from '../support/bridge-run';
import { FaultProxy } from '../support/fault-proxy';
import { compareDelivery, keyedRecords, killSeed, runWithKills, type KeyedRecord } from '../support/kill-recovery';
import { createTopics, deleteTopics, testKafka } from '../support/kafka';

jest.setTimeout(240_000);

const kafka = testKafka();
const s3c = s3();
const cleanups: Array<() => Promise<unknown>> = [];
let bridge: TidewayProcess | undefined;

afterEach(async () => {
  if (bridge) await bridge.kill();
  bridge = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const seed = killSeed();

test(`s3: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives`, async () => {
  const name = uniqueName('bk-s3');
  const topic = name;
  const route = name;
  await createTopics(kafka, [{ topic, partitions: 3 }]);
  cleanups.push(() => deleteTopics(kafka, [topic]));
  await createBucket(s3c, name);
  cleanups.push(() => deleteBucket(s3c, name));
  // Object writes take a while: flushes of later buffers overtake earlier ones.
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_S3!, {
    recordFailure: 0,
    throttle: 0,
    serverError: 0,
    delayMs: 250,
    applyTo: (_target, method) => method === 'PUT' || method === 'POST',
  }).start();
  cleanups.push(() => proxy.stop());
  const messages = keyedRecords(topic, 2500, 24);
  // Small buffers, flushed by size or after a second: many objects, several in flight.
  const routes = writeRoutes(
    `routes:\n  - name: ${route}\n    topics: [${topic}]\n    s3:\n      bucket: ${name}\n      prefix: "raw/"\n      bufferingHints: { sizeInMBs: 0.01, intervalInSeconds: 1 }\n`,
  );
  const run = await runWithKills(
    {
      label: 's3',
      route,
      group: `tideway-bridge-${route}`,
      topic,
      kafka,
      messages,
      seed,
      kills: 4,
      backlog: 300,
      start: () => startBridge(routes, { AWS_ENDPOINT_URL_S3: proxy.url, BRIDGE_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'warn' }),
    },
    (b) => (bridge = b),
  );
  const got: KeyedRecord[] = [];
  for (const key of await listKeys(s3c, name, 'raw/')) {
    const body = await getObject(s3c, name, key);
    const text = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).toString('utf8') : body.toString('utf8');
    for (const line of text.split('\n')) if (line !== '') got.push(JSON.parse(line) as KeyedRecord);
  }
  const d = compareDelivery(messages.map((m) => m.record), got);
  console.log(`s3: seed ${seed}, ${run.points.length} kills (${run.points.filter((p) => p.reached).length} at their point), ${d.distinct}/${messages.length} ids, ${d.duplicates} duplicates, ${run.ms} ms`);
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
});
