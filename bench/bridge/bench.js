#!/usr/bin/env node
/**
 * Throughput of `tideway bridge` for 1 KiB records, next to the raw kafkajs consume rate of the
 * same topic in the same run, with the bridge's peak RSS (VmHWM). Needs the local stack
 * (`npm run stack:up`) and `npm run build` first: it runs the service from dist/.
 *
 *   npm run build && node bench/bridge/bench.js [records=100000] [destinations=kinesis,firehose,s3]
 *   e.g. node bench/bridge/bench.js 10000   (a short check)
 *
 * Destinations:
 *   kinesis  → bench/bridge/kinesis-sink-server.js, a local endpoint that accepts every PutRecords
 *              (64 shards, so per-shard rate limiting allows 64,000 records/s); kinesis-mock cannot
 *              keep up with a benchmark.
 *   firehose → moto Firehose (DirectPut → moto S3), AWS_ENDPOINT_URL_FIREHOSE.
 *   s3       → moto S3 (GZIP, 8 MiB / 1 s buffers), AWS_ENDPOINT_URL_S3.
 *
 * Each destination gets its own route and consumer group over the same pre-loaded topic; the
 * time is from the first record delivered until the group committed every record.
 * CPU per record (µs CPU/record, cpuMicrosPerRecord): user + system CPU over that interval of the
 * `tideway bridge` process (for the raw consume: of this process, which consumes), divided by the
 * records; "broker" is the same for the local broker's process (`.stack/run/kafka.pid`, or
 * BENCH_BROKER_PID when the stack runs from another checkout).
 * Each run prints its line and `RESULT {json}` (bench/kit.js).
 * Everything it creates is named bench-bridge-<random> and deleted at the end.
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { S3Client, CreateBucketCommand } = require('@aws-sdk/client-s3');
const { FirehoseClient, CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand } = require('@aws-sdk/client-firehose');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { startKinesisSink } = require('./kinesis-sink-server');
const workload = require('./workload');
const kit = require('../kit');

require(join(kit.ROOT, 'test-support', 'load-stack-env.js'));
const COUNT = Number(process.argv[2] || 100_000);
const DESTINATIONS = (process.argv[3] || 'kinesis,firehose,s3').split(',');
const { PARTITIONS } = workload;
const id = randomBytes(3).toString('hex');
const prefix = `bench-bridge-${id}`;
const topic = prefix;
const kafka = kit.benchKafka();
const s3 = new S3Client({ requestHandler: new NodeHttpHandler(), forcePathStyle: true });
const firehose = new FirehoseClient({ requestHandler: new NodeHttpHandler() });

const { sleep } = kit;

/** Raw kafkajs consume rate of the topic: a fresh group, no work per record. */
async function rawConsumeRate() {
  const r = await kit.consumeMeasured(kafka, { groupId: `${prefix}-raw`, topic, count: COUNT, partitions: PARTITIONS });
  // Cores busy while reading: the consumer's and the broker's CPU over the interval.
  return {
    records: r.records,
    seconds: r.seconds,
    rate: r.rate,
    cpuSeconds: r.cpuSeconds,
    cpuMicrosPerRecord: r.cpuMicrosPerRecord,
    brokerCpuSeconds: r.brokerCpuSeconds,
    brokerCpuMicrosPerRecord: r.brokerCpuMicrosPerRecord,
    coresBusy: (r.cpuSeconds + r.brokerCpuSeconds) / r.seconds,
  };
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

async function runBridge(name, destinationYaml, env = {}) {
  const route = `${prefix}-${name}`;
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bridge-')), 'routes.yaml');
  writeFileSync(file, `routes:\n  - name: ${route}\n    topics: [${topic}]\n${destinationYaml}`);
  const bridge = await kit.startService('bridge', { BRIDGE_ROUTES: file, ...env });
  await bridge.ready();
  // Timed like the raw consumer: from the first record delivered (after the group join) to the
  // last offset committed.
  let run;
  while (run === undefined) {
    if (/^tideway_bridge_records_delivered_total\{[^}]*\} [1-9]/m.test(await bridge.metrics())) run = kit.measure(bridge.pid, { broker: true });
    else await sleep(10);
  }
  while (!(await committedAll(`tideway-bridge-${route}`))) await sleep(100);
  const r = run.end(COUNT);
  const rss = kit.peakRssMiB(bridge.pid);
  if (process.env.BENCH_SHOW_METRICS) {
    const text = await bridge.metrics();
    console.log(
      text
        .split('\n')
        .filter((l) => /^tideway_bridge_(batch_records_(sum|count)|retries|throttles|delivery_latency_seconds_(sum|count))/.test(l))
        .join('\n'),
    );
  }
  await bridge.stop();
  return {
    destination: name,
    seconds: r.seconds,
    rate: r.rate,
    peakRssMiB: rss,
    cpuSeconds: r.cpuSeconds,
    cpuMicrosPerRecord: r.cpuMicrosPerRecord,
    brokerCpuSeconds: r.brokerCpuSeconds,
    brokerCpuMicrosPerRecord: r.brokerCpuMicrosPerRecord,
  };
}

async function main() {
  console.log(`preloading ${COUNT} records of 1 KiB into ${topic} (${PARTITIONS} partitions)…`);
  await workload.preload(kafka, topic, COUNT, PARTITIONS);
  const raw = await rawConsumeRate();
  const common = { records: COUNT, recordBytes: 1024, partitions: PARTITIONS };
  kit.result(
    'bridge',
    'raw-consume',
    { ...common, ...raw },
    `raw kafkajs consume: ${Math.round(raw.rate)} records/s (${raw.seconds.toFixed(1)} s), ${kit.cpuText(raw.cpuMicrosPerRecord)}, broker ${kit.cpuText(raw.brokerCpuMicrosPerRecord)}, consumer + broker ${raw.coresBusy.toFixed(2)} cores busy`,
  );
  const results = [];
  const cleanups = [];
  try {
    for (const d of DESTINATIONS) {
      if (d === 'kinesis') {
        const sink = await startKinesisSink(64);
        cleanups.push(() => sink.close());
        const arrived = workload.countKinesisRecords(sink, workload.deliveryCounter(COUNT));
        results.push(await runBridge('kinesis', `    kinesis: { stream: ${prefix} }\n`, { AWS_ENDPOINT_URL_KINESIS: sink.url }));
        arrived.check('kinesis sink');
        results[results.length - 1].recordsReceivedByEndpoint = sink.stats.records;
        results[results.length - 1].putRecordsCalls = sink.stats.calls;
      } else if (d === 'firehose') {
        const bucket = `${prefix}-fh`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        cleanups.push(() => workload.emptyBucket(s3, bucket));
        await firehose.send(
          new CreateDeliveryStreamCommand({
            DeliveryStreamName: prefix,
            DeliveryStreamType: 'DirectPut',
            ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::123456789012:role/x', BucketARN: `arn:aws:s3:::${bucket}`, Prefix: 'fh/' },
          }),
        );
        cleanups.push(() => firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: prefix })));
        results.push(await runBridge('firehose', `    firehose: { deliveryStream: ${prefix} }\n`));
      } else if (d === 's3') {
        const bucket = `${prefix}-s3`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        cleanups.push(() => workload.emptyBucket(s3, bucket));
        results.push(
          await runBridge(
            's3',
            `    s3: { bucket: ${bucket}, prefix: "raw/dt=!{timestamp:yyyy-MM-dd}/", bufferingHints: { sizeInMBs: 8, intervalInSeconds: 1 } }\n`,
          ),
        );
      }
      const r = results[results.length - 1];
      kit.result(
        'bridge',
        r.destination,
        { ...common, ...r },
        `bridge → ${r.destination}: ${Math.round(r.rate)} records/s (${r.seconds.toFixed(1)} s), ${Math.round((100 * r.rate) / raw.rate)} % of raw, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ${kit.cpuText(r.cpuMicrosPerRecord)}, broker ${kit.cpuText(r.brokerCpuMicrosPerRecord)}`,
      );
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await workload.deleteTopic(kafka, topic);
  }
}

kit.run(main);
