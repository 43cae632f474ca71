/**
 * kafka → Kinesis with SIGKILLs mid-stream (Kafka + kinesis-mock behind a slowing, partly failing
 * proxy, so several PutRecords calls and retried records are in flight when the bridge dies).
 */
import { uniqueName } from '../../../test-support/stack';
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { createStream, deleteStream, kinesis, readStream } from '../support/aws';
import { firstOccurrencesInOrder, startBridge, writeRoutes } from '../support/bridge-run';
import { FaultProxy } from '../support/fault-proxy';
import { compareDelivery, keyedRecords, killSeed, runWithKills, type KeyedRecord } from '../support/kill-recovery';
import { createTopics, deleteTopics, testKafka } from '../support/kafka';

jest.setTimeout(240_000);

const kafka = testKafka();
const client = kinesis();
const cleanups: Array<() => Promise<unknown>> = [];
let bridge: TidewayProcess | undefined;

afterEach(async () => {
  if (bridge) await bridge.kill();
  bridge = undefined;
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const seed = killSeed();

test(`kinesis: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives, per-key first occurrences in order`, async () => {
  const name = uniqueName('bk-kin');
  const topic = name;
  const route = name;
  await createTopics(kafka, [{ topic, partitions: 3 }]);
  cleanups.push(() => deleteTopics(kafka, [topic]));
  // A fresh stream per run: kinesis-mock slows down as a stream fills.
  await createStream(client, name, 2);
  cleanups.push(() => deleteStream(client, name));
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_KINESIS!, {
    recordFailure: 0.1,
    throttle: 0,
    serverError: 0,
    delayMs: 100,
    applyTo: (target) => target.endsWith('.PutRecords'),
  }).start();
  cleanups.push(() => proxy.stop());
  const messages = keyedRecords(topic, 2000, 120);
  const routes = writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis: { stream: ${name} }\n`);
  const run = await runWithKills(
    {
      label: 'kinesis',
      route,
      group: `tideway-bridge-${route}`,
      topic,
      kafka,
      messages,
      seed,
      kills: 4,
      backlog: 300,
      start: () => startBridge(routes, { AWS_ENDPOINT_URL_KINESIS: proxy.url, BRIDGE_SESSION_TIMEOUT_MS: '6000', BRIDGE_RETRY_INITIAL_MS: '300', LOG_LEVEL: 'warn' }),
    },
    (b) => (bridge = b),
  );
  const got = (await readStream(client, name)).map((r) => JSON.parse(r.data.toString('utf8')) as KeyedRecord);
  const d = compareDelivery(messages.map((m) => m.record), got);
  console.log(`kinesis: seed ${seed}, ${run.points.length} kills (${run.points.filter((p) => p.reached).length} at their point), ${d.distinct}/${messages.length} ids, ${d.duplicates} duplicates, ${run.ms} ms`);
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
  const byKey = new Map<string, number[]>();
  for (const g of got) byKey.set(g.key, [...(byKey.get(g.key) ?? []), g.seq]);
  expect(firstOccurrencesInOrder(byKey)).toEqual([]);
});
