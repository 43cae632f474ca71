/**
 * kafka → S3 (the bridge as a self-hosted Firehose) on the real stack (Kafka + moto S3),
 * including seed 004's transform end to end.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, deleteBucket, getObject, listKeys } from './support/aws';
import { startBridge, writeRoutes } from './support/bridge-run';
import { FaultProxy } from './support/fault-proxy';
import { afterEachCleanup } from '../../test-support/cleanup';
import { createTopics, deleteTopics, produce, testKafka, waitCaughtUp } from '../../test-support/kafka';
import { metricValue, waitForMetric } from '../../test-support/metrics';
import { s3Client, uniqueSuffix } from '../../test-support/stack';
import type { TidewayProcess } from '../../test-support/tideway-process';
import { join } from 'node:path';

jest.setTimeout(240_000);

const kafka = testKafka();
const s3c = s3Client();
const TRANSFORM = join(__dirname, '..', '..', 'examples', 'transforms', 'iot-firehose.js');
let bridge: TidewayProcess | undefined;
afterEach(() => bridge?.kill());
const defer = afterEachCleanup();

async function setup(partitions = 2) {
  const id = uniqueSuffix('-');
  const topic = `iot.readings-${id}`;
  const bucket = `bridge-s3-${id}`;
  await createTopics(kafka, [{ topic, partitions }]);
  defer(() => deleteTopics(kafka, [topic]));
  await createBucket(s3c, bucket);
  defer(() => deleteBucket(s3c, bucket));
  return { topic, bucket, route: `s3-${id}`, group: `tideway-bridge-s3-${id}` };
}

async function objects(bucket: string, prefix = ''): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const key of await listKeys(s3c, bucket, prefix)) {
    const body = await getObject(s3c, bucket, key);
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // GZIP
    out.set(
      key,
      gunzipSync(body)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  }
  return out;
}

// Kafka accepts timestamps near now only: two hours apart, partitioned by hour.
const T2 = Date.now();
const T1 = T2 - 3_600_000;
const hourPrefix = (t: number) => {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `raw/iot/year=${d.getUTCFullYear()}/month=${p(d.getUTCMonth() + 1)}/day=${p(d.getUTCDate())}/hour=${p(d.getUTCHours())}/`;
};

test('seed 004 end to end: transform runs unchanged, GZIP JSON lines under expanded prefixes, failures under the error prefix', async () => {
  const { topic, bucket, route, group } = await setup();
  const readings = Array.from({ length: 600 }, (_, seq) => {
    const humidity = seq % 10 === 0 ? 10 : 40 + (seq % 50); // every 10th is Dropped (humidity < 30)
    const value = seq % 50 === 7 ? 'not-json' : JSON.stringify({ device_id: `sensor-${seq % 9}`, seq, temperature: 20 + (seq % 15), humidity });
    return { topic, key: `sensor-${seq % 9}`, value, timestamp: seq % 2 === 0 ? T1 : T2 };
  });
  await produce(kafka, readings);
  const yaml = `routes:
  - name: ${route}
    topics: [${topic}]
    transform: ${TRANSFORM}
    s3:
      bucket: ${bucket}
      prefix: "raw/iot/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
      errorOutputPrefix: "errors/iot/!{firehose:error-output-type}/"
      compression: gzip
      bufferingHints: { sizeInMBs: 1, intervalInSeconds: 1 }
`;
  bridge = await startBridge(writeRoutes(yaml));
  await waitCaughtUp(kafka, group, topic, 120_000);

  const data = await objects(bucket, 'raw/');
  const expected = readings.filter((r) => r.value !== 'not-json' && (JSON.parse(r.value) as { humidity: number }).humidity >= 30);
  const got: Array<{ seq: number; temperature_c: number; temperature_f: number; key: string }> = [];
  for (const [key, lines] of data) {
    expect([hourPrefix(T1), hourPrefix(T2)]).toContain(key.slice(0, hourPrefix(T1).length));
    expect(key.slice(hourPrefix(T1).length)).toMatch(new RegExp(`^${topic.replace('.', '\\.')}\\+[01]\\+\\d{20}\\.json\\.gz$`));
    for (const l of lines) {
      const r = JSON.parse(l) as { seq: number; temperature_c: number; temperature_f: number };
      // Under the day of the record's own timestamp.
      expect(key.startsWith(hourPrefix(r.seq % 2 === 0 ? T1 : T2))).toBe(true);
      got.push({ ...r, key });
    }
  }
  expect(got.map((g) => g.seq).sort((a, b) => a - b)).toEqual(expected.map((r) => (JSON.parse(r.value) as { seq: number }).seq).sort((a, b) => a - b));
  for (const g of got) expect(g.temperature_f).toBeCloseTo((g.temperature_c * 9) / 5 + 32, 5);

  const errors = await objects(bucket, 'errors/iot/processing-failed/');
  const errorLines = [...errors.values()].flat().map((l) => JSON.parse(l) as { errorCode: string; rawData: string });
  expect(errorLines).toHaveLength(readings.filter((r) => r.value === 'not-json').length);
  for (const e of errorLines) {
    expect(e.errorCode).toBe('Lambda.ProcessingFailed');
    expect(Buffer.from(e.rawData, 'base64').toString()).toBe('not-json');
  }
  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_records_dropped_total', { route, reason: 'transform-dropped' })).toBe(60);
  expect(metricValue(metrics, 'tideway_bridge_records_delivered_total', { route, destination: 's3' })).toBe(expected.length);
});

test('S3 errors (503 SlowDown, 500) are retried; every record lands once; object metadata names its offsets', async () => {
  const { topic, bucket, route, group } = await setup(1);
  const proxy = await new FaultProxy(process.env.AWS_ENDPOINT_URL_S3!, {
    recordFailure: 0,
    throttle: 0.2,
    serverError: 0.2,
    applyTo: (_t, method) => method === 'PUT',
  }).start();
  defer(() => proxy.stop());
  const msgs = Array.from({ length: 2000 }, (_, seq) => ({ topic, key: `k${seq % 5}`, value: JSON.stringify({ seq, device_id: `d${seq % 3}` }) }));
  await produce(kafka, msgs);
  bridge = await startBridge(
    writeRoutes(
      `routes:\n  - name: ${route}\n    topics: [${topic}]\n    s3:\n      bucket: ${bucket}\n      prefix: "by-device/device=!{field:device_id}/"\n      bufferingHints: { sizeInMBs: 0.01, intervalInSeconds: 1 }\n`,
    ),
    { AWS_ENDPOINT_URL_S3: proxy.url },
  );
  await waitCaughtUp(kafka, group, topic, 120_000);
  const data = await objects(bucket, 'by-device/');
  const seqs = [...data.values()].flat().map((l) => (JSON.parse(l) as { seq: number }).seq);
  expect(seqs.sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
  for (const [key, lines] of data) {
    const device = /device=(d\d)\//.exec(key)![1];
    for (const l of lines) expect((JSON.parse(l) as { device_id: string }).device_id).toBe(device);
    const head = await s3c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const first = /\+(\d{20})\.json\.gz$/.exec(key)![1];
    expect(BigInt(head.Metadata!['tideway-first-offset'])).toBeGreaterThanOrEqual(BigInt(first));
    expect(BigInt(head.Metadata!['tideway-last-offset'])).toBeGreaterThanOrEqual(BigInt(head.Metadata!['tideway-first-offset']));
  }
  expect(proxy.stats.throttled + proxy.stats.serverErrors).toBeGreaterThan(0);
  expect(metricValue(await bridge.metrics(), 'tideway_bridge_retries_total', { route })).toBeGreaterThan(0);
});

test('SIGKILL then restart: nothing lost, and replayed buffers rewrite the same object names', async () => {
  const { topic, bucket, route, group } = await setup(1);
  const msgs = Array.from({ length: 3000 }, (_, seq) => ({ topic, key: `k${seq % 5}`, value: JSON.stringify({ seq, pad: 'p'.repeat(200) }) }));
  await produce(kafka, msgs.slice(0, 1500));
  // Buffers flush by size only (interval 900 s), so object boundaries depend on data, not time.
  const routes = writeRoutes(
    `routes:\n  - name: ${route}\n    topics: [${topic}]\n    s3:\n      bucket: ${bucket}\n      prefix: "raw/"\n      bufferingHints: { sizeInMBs: 0.05, intervalInSeconds: 900 }\n`,
  );
  // A long commit interval leaves written-but-uncommitted objects behind at the kill.
  bridge = await startBridge(routes, { BRIDGE_COMMIT_INTERVAL_MS: '3000' });
  await waitForMetric(bridge, 'tideway_bridge_s3_objects_written_total', { route }, 3);
  await bridge.kill();
  await produce(kafka, msgs.slice(1500));
  // Same route, now also flushing by time so the tail gets written; full buffers are cut by size as before.
  bridge = await startBridge(
    writeRoutes(
      `routes:\n  - name: ${route}\n    topics: [${topic}]\n    s3:\n      bucket: ${bucket}\n      prefix: "raw/"\n      bufferingHints: { sizeInMBs: 0.05, intervalInSeconds: 1 }\n`,
    ),
  );
  await waitCaughtUp(kafka, group, topic, 120_000);
  await bridge.stop();
  bridge = undefined;
  const data = await objects(bucket, 'raw/');
  const seqs = [...data.values()].flat().map((l) => (JSON.parse(l) as { seq: number }).seq);
  expect(new Set(seqs).size).toBe(3000);
  // Replayed ranges were rewritten under the same names, not added next to them.
  expect(seqs.length).toBe(3000);
});

test('a buffer larger than a part is streamed as a multipart upload; topics by regex', async () => {
  const { topic, bucket, route, group } = await setup(1);
  // Incompressible 1 KiB values: ~12 MiB of records gzip to well over one 5 MiB part.
  const msgs = Array.from({ length: 12_000 }, (_, seq) => ({
    topic,
    key: `k${seq % 7}`,
    value: JSON.stringify({ seq, noise: randomBytes(700).toString('base64') }),
  }));
  await produce(kafka, msgs);
  const regex = `^${topic.replace('.', '\\\\.')}$`;
  bridge = await startBridge(
    writeRoutes(
      `routes:\n  - name: ${route}\n    topics: { regex: "${regex}" }\n    s3:\n      bucket: ${bucket}\n      prefix: "big/"\n      partSizeMB: 5\n      bufferingHints: { sizeInMBs: 64, intervalInSeconds: 5 }\n`,
    ),
  );
  await waitCaughtUp(kafka, group, topic, 120_000).catch((err) => {
    throw new Error(`${err}\n${bridge!.logs(50)}`);
  });
  const keys = await listKeys(s3c, bucket, 'big/');
  let multipart = 0;
  const seqs: number[] = [];
  for (const key of keys) {
    const head = await s3c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // S3 ETags of multipart objects end in -<part count>.
    if (/-\d+"?$/.test(head.ETag ?? '')) multipart++;
    seqs.push(
      ...gunzipSync(await getObject(s3c, bucket, key))
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    );
  }
  expect(multipart).toBeGreaterThan(0);
  expect(seqs.sort((a, b) => a - b)).toEqual(msgs.map((_m, i) => i));
});
