/**
 * kafka → Kinesis on the real stack (Kafka + kinesis-mock), `tideway bridge` as a child process.
 */
import { partitionKeyHash } from '../src/partition-key';
import { createStream, deleteStream, shardRanges } from './support/aws';
import { firstOccurrencesInOrder, startBridge, writeRoutes } from './support/bridge-run';
import { FaultProxy } from './support/fault-proxy';
import { afterEachCleanup } from '../../test-support/cleanup';
import { createTopics, deleteTopics, produce, testKafka, waitCaughtUp } from '../../test-support/kafka';
import { readTopicUntil } from '../../test-support/kafka-read';
import { readStream, type StreamRecord } from '../../test-support/kinesis-read';
import { metricValue, waitForMetric } from '../../test-support/metrics';
import { kinesisClient, uniqueSuffix } from '../../test-support/stack';
import type { TidewayProcess } from '../../test-support/tideway-process';

jest.setTimeout(240_000);

const kafka = testKafka();
const client = kinesisClient();
let bridge: TidewayProcess | undefined;
afterEach(() => bridge?.kill());
const defer = afterEachCleanup();

interface Sent {
  key: string;
  seq: number;
}

/** `count` records over `keys` keys; per key, seq increases with production order. */
function records(topic: string, count: number, keys: number, pad = 50) {
  return Array.from({ length: count }, (_, seq) => {
    const key = `key-${seq % keys}`;
    return { topic, key, value: JSON.stringify({ key, seq, pad: 'x'.repeat(pad) }) };
  });
}

async function setup(partitions = 3, shards = 3, configs?: Record<string, string>) {
  const id = uniqueSuffix('-');
  const topic = `bridge-kin-${id}`;
  const stream = `bridge-kin-${id}`;
  await createTopics(
    kafka,
    configs
      ? [
          { topic, partitions, configs },
          { topic: `${topic}.dlq`, partitions: 1, configs },
        ]
      : [{ topic, partitions }],
  );
  defer(() => deleteTopics(kafka, [topic, `${topic}.dlq`]));
  await createStream(client, stream, shards);
  defer(() => deleteStream(client, stream));
  return { id, topic, stream, route: `kin-${id}`, group: `tideway-bridge-kin-${id}` };
}

function decode(recs: StreamRecord[]): Array<Sent & { shardId: string; partitionKey: string }> {
  return recs.map((r) => ({ ...(JSON.parse(r.data.toString('utf8')) as Sent), shardId: r.shardId, partitionKey: r.partitionKey }));
}

/** Every record present, each key on the one shard its hash maps to, per-key order intact. */
async function verifyStream(stream: string, sent: Sent[], exactlyOnce: boolean) {
  const got = decode(await readStream(client, stream));
  const ranges = await shardRanges(client, stream);
  const gotSeqs = new Set(got.map((g) => g.seq));
  const missing = sent.filter((s) => !gotSeqs.has(s.seq));
  expect(missing).toEqual([]);
  if (exactlyOnce) expect(got.length).toBe(sent.length);
  const byKey = new Map<string, number[]>();
  const shardOfKey = new Map<string, Set<string>>();
  for (const g of got) {
    expect(g.partitionKey).toBe(g.key);
    const h = partitionKeyHash(g.partitionKey);
    expect(ranges.find((r) => h >= r.start && h <= r.end)!.shardId).toBe(g.shardId);
    byKey.set(g.key, [...(byKey.get(g.key) ?? []), g.seq]);
    shardOfKey.set(g.key, (shardOfKey.get(g.key) ?? new Set()).add(g.shardId));
  }
  for (const shards of shardOfKey.values()) expect(shards.size).toBe(1);
  expect(firstOccurrencesInOrder(byKey)).toEqual([]);
  if (exactlyOnce) for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return got;
}

test('every Kafka record lands on its key’s shard, exactly once, per-key order intact', async () => {
  const { topic, stream, route, group } = await setup();
  const msgs = records(topic, 1500, 40);
  await produce(kafka, msgs);
  bridge = await startBridge(
    writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis:\n      stream: ${stream}\n      partitionKey: key\n`),
  );
  await bridge.waitReady();
  await waitCaughtUp(kafka, group, topic, 120_000);
  await verifyStream(
    stream,
    msgs.map((m) => JSON.parse(m.value) as Sent),
    true,
  );
  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_records_delivered_total', { route })).toBe(1500);
  expect(await bridge.stop()).toBe(0);
  bridge = undefined;
});

test('per-record ProvisionedThroughputExceeded, throttled and failing calls: retried, nothing lost, no key reordered', async () => {
  const { topic, stream, route, group } = await setup();
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_KINESIS!, {
    recordFailure: 0.3,
    throttle: 0.1,
    serverError: 0.05,
    applyTo: (target) => target.endsWith('.PutRecords'),
  }).start();
  defer(() => proxy.stop());
  // Few keys, many records each: a failed record has later records of its key right behind it.
  const msgs = records(topic, 1200, 12);
  await produce(kafka, msgs);
  bridge = await startBridge(writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis: { stream: ${stream} }\n`), {
    AWS_ENDPOINT_URL_KINESIS: proxy.url,
  });
  await waitCaughtUp(kafka, group, topic, 200_000);
  // The proxy never stores a failed record, so a correct bridge ends with exactly one copy, in order.
  await verifyStream(
    stream,
    msgs.map((m) => JSON.parse(m.value) as Sent),
    true,
  );
  expect(proxy.stats.recordsFailed).toBeGreaterThan(0);
  expect(proxy.stats.throttled).toBeGreaterThan(0);
  expect(proxy.stats.serverErrors).toBeGreaterThan(0);
  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_records_delivered_total', { route })).toBe(1200);
  expect(metricValue(metrics, 'tideway_bridge_retries_total', { route, error_code: 'ProvisionedThroughputExceededException' })).toBe(proxy.stats.recordsFailed);
  expect(metricValue(metrics, 'tideway_bridge_throttles_total', { route })).toBeGreaterThan(0);
});

test('SIGKILL in the middle of delivery, then restart: nothing lost, per-key first occurrences in order', async () => {
  const { topic, stream, route, group } = await setup();
  const msgs = records(topic, 2000, 30);
  await produce(kafka, msgs.slice(0, 1000));
  const routes = writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis: { stream: ${stream} }\n`);
  bridge = await startBridge(routes);
  await waitForMetric(bridge, 'tideway_bridge_records_delivered_total', { route }, 300);
  await bridge.kill();
  // Written while the bridge is down: only the restarted process can deliver them.
  await produce(kafka, msgs.slice(1000));
  bridge = await startBridge(routes);
  await waitCaughtUp(kafka, group, topic, 120_000);
  await verifyStream(
    stream,
    msgs.map((m) => JSON.parse(m.value) as Sent),
    false,
  );
});

test('KPL aggregation: the stream holds aggregated records that aws-kinesis-agg unpacks into every record, in order', async () => {
  const { topic, stream, route, group } = await setup(2, 2);
  const msgs = records(topic, 1000, 5);
  await produce(kafka, msgs);
  bridge = await startBridge(writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis: { stream: ${stream}, aggregation: true }\n`));
  await waitCaughtUp(kafka, group, topic, 120_000);
  const raw = await readStream(client, stream);
  // Aggregation packs a key's records: far fewer Kinesis records than Kafka records.
  expect(raw.length).toBeLessThan(msgs.length);
  const agg = require('aws-kinesis-agg') as {
    deaggregateSync(
      r: { data: string; partitionKey: string; sequenceNumber: string },
      checksums: boolean,
      cb: (err: Error | null, recs?: Array<{ partitionKey: string; data: string }>) => void,
    ): void;
  };
  const unpacked: Array<Sent & { shardId: string }> = [];
  for (const r of raw) {
    agg.deaggregateSync({ data: r.data.toString('base64'), partitionKey: r.partitionKey, sequenceNumber: r.sequenceNumber }, true, (err, recs) => {
      if (err) throw err;
      for (const u of recs!) {
        expect(u.partitionKey).toBe(r.partitionKey);
        unpacked.push({ ...(JSON.parse(Buffer.from(u.data, 'base64').toString('utf8')) as Sent), shardId: r.shardId });
      }
    });
  }
  expect(unpacked.map((u) => u.seq).sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
  const byKey = new Map<string, number[]>();
  for (const u of unpacked) byKey.set(u.key, [...(byKey.get(u.key) ?? []), u.seq]);
  for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
});

test('a record over 1 MiB goes to the DLQ with a reason header; the stream goes on', async () => {
  // Topic and DLQ topic must accept a 1 MiB+ record (Kafka's default limit is ~1 MB).
  const { topic, stream, route, group } = await setup(1, 1, { 'max.message.bytes': String(4 * 1024 * 1024) });
  const big = { topic, key: 'big', value: 'y'.repeat(1024 * 1024 + 10) };
  await produce(kafka, [{ topic, key: 'a', value: '{"seq":0,"key":"a"}' }, big, { topic, key: 'a', value: '{"seq":2,"key":"a"}' }]);
  bridge = await startBridge(writeRoutes(`routes:\n  - name: ${route}\n    topics: [${topic}]\n    kinesis: { stream: ${stream} }\n`));
  await waitCaughtUp(kafka, group, topic, 120_000);
  const [dlq] = await readTopicUntil(`${topic}.dlq`, (all) => all.length >= 1, { timeoutMs: 60_000 });
  expect(dlq.headers['tideway.dlq.reason']?.toString()).toBe('record-too-large');
  expect(dlq.headers['tideway.origin.offset']?.toString()).toBe('1');
  expect(dlq.value?.length).toBe(big.value.length);
  expect(decode(await readStream(client, stream)).map((g) => g.seq)).toEqual([0, 2]);
  expect(metricValue(await bridge.metrics(), 'tideway_dlq_records_total', { topic, reason: 'record-too-large' })).toBe(1);
});
