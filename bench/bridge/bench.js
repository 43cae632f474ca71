#!/usr/bin/env node
/**
 * Throughput of `tideway bridge` for 1 KiB records, next to the raw kafkajs consume rate of the
 * same topic in the same run, with the bridge's peak RSS (VmHWM). Needs the local stack
 * (npm run stack:up) and a build (npm run build).
 *
 *   node bench/bridge/bench.js [records=100000] [destinations=kinesis,firehose,s3]
 *
 * Destinations:
 *   kinesis  → bench/bridge/kinesis-sink-server.js, a local endpoint that accepts every PutRecords
 *              (64 shards, so per-shard rate limiting allows 64,000 records/s); kinesis-mock cannot
 *              keep up with a benchmark.
 *   firehose → moto Firehose (DirectPut → moto S3), AWS_ENDPOINT_URL_FIREHOSE.
 *   s3       → moto S3 (GZIP, 8 MiB / 1 s buffers), AWS_ENDPOINT_URL_S3.
 *
 * Each destination gets its own route and consumer group over the same pre-loaded topic; the
 * time is from the bridge being ready until its group committed every record.
 * Everything it creates is named bench-bridge-<random> and deleted at the end.
 */
/* global fetch */
'use strict';
const { randomBytes } = require('node:crypto');
const { readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { spawn } = require('node:child_process');
const { createLogger, KafkajsClient, kafkaConfigFrom } = require('@tideway/runtime');
const { S3Client, CreateBucketCommand, ListObjectsV2Command, DeleteObjectsCommand, DeleteBucketCommand } = require('@aws-sdk/client-s3');
const { FirehoseClient, CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand } = require('@aws-sdk/client-firehose');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { startKinesisSink } = require('./kinesis-sink-server');

const ROOT = join(__dirname, '..', '..');
const stackEnv = require(join(ROOT, 'test-support', 'load-stack-env.js')).applyStackEnv();
const COUNT = Number(process.argv[2] || 100_000);
const DESTINATIONS = (process.argv[3] || 'kinesis,firehose,s3').split(',');
const PARTITIONS = 4;
const id = randomBytes(3).toString('hex');
const prefix = `bench-bridge-${id}`;
const topic = prefix;
const kafka = new KafkajsClient(kafkaConfigFrom({ kafkaBrokers: stackEnv.KAFKA_BROKERS.split(','), kafkaClientId: 'bench', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10000 }, createLogger('bench', 'silent')));
const s3 = new S3Client({ requestHandler: new NodeHttpHandler(), forcePathStyle: true });
const firehose = new FirehoseClient({ requestHandler: new NodeHttpHandler() });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function preload() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const pad = 'x'.repeat(1024);
  for (let i = 0; i < COUNT; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(COUNT, i + 1000); j++) {
      const head = JSON.stringify({ seq: j, key: `k${j % 10000}`, pad: '' });
      // 1 KiB values: JSON padded to exactly 1024 bytes.
      batch.push({ topic, key: `k${j % 10000}`, value: head.replace('"pad":""', `"pad":"${pad.slice(0, 1024 - head.length)}"`) });
    }
    await producer.send(batch);
  }
  await producer.disconnect();
}

/** The local broker's pid (npm run stack:up writes it), to report its CPU beside the clients'. */
function brokerPid() {
  try {
    return Number(readFileSync(join(ROOT, '.stack', 'run', 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}
const brokerCpuSeconds = () => {
  const pid = brokerPid();
  return pid === undefined ? NaN : cpuSeconds(pid);
};

/** Raw kafkajs consume rate of the topic: a fresh group, no work per record. */
async function rawConsumeRate() {
  const consumer = kafka.consumer({ groupId: `${prefix}-raw`, fromBeginning: true, partitionsConsumedConcurrently: PARTITIONS });
  await consumer.connect();
  await consumer.subscribe([topic]);
  let n = 0;
  let t0 = 0;
  let t1 = 0;
  let cpu0;
  let cpu = 0;
  let broker0 = 0;
  let broker = 0;
  await new Promise((resolve) => {
    void consumer.run(async (batch) => {
      if (t0 === 0) {
        t0 = Date.now();
        cpu0 = process.cpuUsage();
        broker0 = brokerCpuSeconds();
      }
      n += batch.messages.length;
      if (n >= COUNT && t1 === 0) {
        t1 = Date.now();
        const d = process.cpuUsage(cpu0);
        cpu = (d.user + d.system) / 1e6;
        broker = brokerCpuSeconds() - broker0;
        resolve();
      }
    });
  });
  await consumer.disconnect();
  const seconds = (t1 - t0) / 1000;
  // Cores busy while reading: the consumer's and the broker's CPU over the interval.
  return { records: n, seconds, rate: n / seconds, cpuSeconds: cpu, cpuMicrosPerRecord: (cpu * 1e6) / n, brokerCpuSeconds: broker, coresBusy: (cpu + broker) / seconds };
}

async function committedAll(group) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.committedOffsets(group, topic);
    return committed.reduce((s, c) => s + Math.max(0, Number(c.offset)), 0) >= COUNT;
  } finally {
    await admin.disconnect();
  }
}

/** user + system CPU seconds of a process so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function peakRssBytes(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function runBridge(name, destinationYaml, env = {}) {
  const route = `${prefix}-${name}`;
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bridge-')), 'routes.yaml');
  writeFileSync(file, `routes:\n  - name: ${route}\n    topics: [${topic}]\n${destinationYaml}`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the bridge there.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, join(ROOT, 'bin', 'tideway.js'), 'bridge'], {
    env: { ...process.env, BRIDGE_ROUTES: file, METRICS_PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`bridge exited ${child.exitCode}`);
    await sleep(50);
  }
  // Timed like the raw consumer: from the first record delivered (after the group join) to the
  // last offset committed.
  let t0 = 0;
  let cpu0 = 0;
  while (t0 === 0) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (/^tideway_bridge_records_delivered_total\{[^}]*\} [1-9]/m.test(text)) {
      t0 = Date.now();
      cpu0 = cpuSeconds(child.pid);
    }
    else await sleep(10);
  }
  while (!(await committedAll(`tideway-bridge-${route}`))) await sleep(100);
  const seconds = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(child.pid) - cpu0;
  const rss = peakRssBytes(child.pid);
  if (process.env.BENCH_SHOW_METRICS) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    console.log(text.split('\n').filter((l) => /^tideway_bridge_(batch_records_(sum|count)|retries|throttles|delivery_latency_seconds_(sum|count))/.test(l)).join('\n'));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { destination: name, seconds, rate: COUNT / seconds, peakRssMiB: rss / 1024 / 1024, cpuSeconds: cpu, cpuMicrosPerRecord: (cpu * 1e6) / COUNT };
}

async function emptyBucket(bucket) {
  for (;;) {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (!res.Contents || res.Contents.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: res.Contents.map((o) => ({ Key: o.Key })) } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function main() {
  console.log(`preloading ${COUNT} records of 1 KiB into ${topic} (${PARTITIONS} partitions)…`);
  await preload();
  const raw = await rawConsumeRate();
  console.log(`raw kafkajs consume: ${Math.round(raw.rate)} records/s (${raw.seconds.toFixed(1)} s), ${raw.cpuMicrosPerRecord.toFixed(0)} µs CPU/record, consumer + broker ${raw.coresBusy.toFixed(2)} cores busy`);
  const results = [];
  const cleanups = [];
  try {
    for (const d of DESTINATIONS) {
      if (d === 'kinesis') {
        const sink = await startKinesisSink(64);
        cleanups.push(() => sink.close());
        results.push(await runBridge('kinesis', `    kinesis: { stream: ${prefix} }\n`, { AWS_ENDPOINT_URL_KINESIS: sink.url }));
        if (sink.stats.records < COUNT) throw new Error(`kinesis sink got only ${sink.stats.records} records`);
        results[results.length - 1].recordsReceivedByEndpoint = sink.stats.records;
        results[results.length - 1].putRecordsCalls = sink.stats.calls;
      } else if (d === 'firehose') {
        const bucket = `${prefix}-fh`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        cleanups.push(() => emptyBucket(bucket));
        await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: prefix, DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::123456789012:role/x', BucketARN: `arn:aws:s3:::${bucket}`, Prefix: 'fh/' } }));
        cleanups.push(() => firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: prefix })));
        results.push(await runBridge('firehose', `    firehose: { deliveryStream: ${prefix} }\n`));
      } else if (d === 's3') {
        const bucket = `${prefix}-s3`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        cleanups.push(() => emptyBucket(bucket));
        results.push(await runBridge('s3', `    s3: { bucket: ${bucket}, prefix: "raw/dt=!{timestamp:yyyy-MM-dd}/", bufferingHints: { sizeInMBs: 8, intervalInSeconds: 1 } }\n`));
      }
      const r = results[results.length - 1];
      console.log(`bridge → ${r.destination}: ${Math.round(r.rate)} records/s (${r.seconds.toFixed(1)} s), ${Math.round((100 * r.rate) / raw.rate)} % of raw, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${r.cpuMicrosPerRecord.toFixed(0)} µs CPU/record`);
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.disconnect();
  }
  console.log(JSON.stringify({ records: COUNT, recordBytes: 1024, partitions: PARTITIONS, raw, results }, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
