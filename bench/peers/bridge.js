#!/usr/bin/env node
/**
 * `tideway bridge` against Apache Camel (camel-main 4.18.0: camel-kafka consumer → camel-aws2-kinesis
 * / camel-aws2-s3 producer, routes in bench/peers/camel/), the same pre-loaded topic of 1 KiB records
 * (bench/bridge/workload.js) to the same destinations, runs alternated (bench/peers/kit.js).
 * Needs the local stack and `npm run build` (the bridge runs from dist/), Java 17 and Maven (Camel's
 * jars from Maven Central, built once into ~/.cache/tideway/tools).
 *
 *   node bench/peers/bridge.js [records=100000] [destinations=kinesis,s3] [runs=3]
 *
 * Destinations:
 *   kinesis → bench/bridge/kinesis-sink-server.js (a local endpoint that accepts every PutRecords; a
 *             fresh one per run), both tools with up to 500 records a PutRecords.
 *   s3      → moto S3, a fresh bucket per run; uncompressed JSON lines on both sides (the bridge's
 *             `compression: none`; Camel's gzip data format is a jar not served here),
 *             8 MiB / 1 s buffers (Camel: 8,192 records or 1 s).
 * Each run is one fresh process of the tool and a fresh consumer group reading the topic from the
 * beginning. The records are counted where they arrive, by their `seq` (every record of the topic
 * must arrive; duplicates are reported, not counted): at the Kinesis endpoint as it receives them,
 * in S3 by reading each new object (polled every 100 ms).
 * Clock: from the moment the tool's consumer group is Stable with a member (polled every 20 ms with
 * DescribeGroups: its consumer starts fetching; the JVM's and Node's start-up are before it) to the
 * moment every record had arrived (the same conditions for both tools). Buffering before the first
 * S3 object is inside the interval. CPU: user + system seconds of the tool's process
 * (/proc/<pid>/stat, every thread: the JVM's JIT and GC threads, librdkafka's) sampled at those two
 * moments, and when half the records had arrived (secondHalfCpuMicrosPerRecord: the CPU per record
 * of the second half, when start-up work such as the JVM's first JIT compilations is mostly behind);
 * the endpoint's and the broker's CPU are not counted. Figures per run: records/s,
 * records per CPU-second, µs CPU/record, peak RSS (VmHWM) of the process at the end, and the
 * requests that carried the records (PutRecords/PutRecord calls, S3 objects).
 * Everything it creates is named peerbridge-<random> and deleted at the end.
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { S3Client, CreateBucketCommand } = require('@aws-sdk/client-s3');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const kit = require('../kit');
const peers = require('./kit');
const workload = require('../bridge/workload');
const { startKinesisSink } = require('../bridge/kinesis-sink-server');

require(path.join(kit.ROOT, 'test-support', 'load-stack-env.js'));
const COUNT = Number(process.argv[2] || 100_000);
const DESTINATIONS = (process.argv[3] || 'kinesis,s3').split(',');
const RUNS = Number(process.argv[4] || 3);
const CAMEL_DIR = path.join(__dirname, 'camel');
const id = randomBytes(3).toString('hex');
const prefix = `peerbridge-${id}`;
const topic = prefix;
const kafka = kit.benchKafka();
const s3 = new S3Client({ requestHandler: new NodeHttpHandler(), forcePathStyle: true });

/** One destination of one run: where the records go, and how they are counted there. */
async function destination(name, tool, round) {
  const tag = `${prefix}-${tool}-${name}-${round}`;
  const counter = workload.deliveryCounter(COUNT);
  if (name === 'kinesis') {
    const sink = await startKinesisSink(64);
    workload.countKinesisRecords(sink, counter);
    return { tag, counter, stream: tag, endpoint: sink.url, poll: undefined, pollMs: 5, requests: () => sink.stats.calls, close: () => sink.close() };
  }
  if (name === 's3') {
    await s3.send(new CreateBucketCommand({ Bucket: tag }));
    const lines = workload.s3Lines(s3, tag, counter);
    return {
      tag,
      counter,
      bucket: tag,
      endpoint: process.env.AWS_ENDPOINT_URL_S3,
      poll: lines.poll,
      pollMs: 100,
      requests: lines.objects,
      close: () => workload.emptyBucket(s3, tag),
    };
  }
  throw new Error(`unknown destination ${name} (kinesis, s3)`);
}

async function deliver(dest, group, proc, what) {
  const watch = workload.groupStable(group);
  try {
    const fields = await workload.timeDelivery({
      pid: proc.pid,
      counter: dest.counter,
      started: watch.started,
      poll: dest.poll,
      pollMs: dest.pollMs,
      alive: () => !proc.exited(),
      what,
    });
    return { ...fields, ...dest.counter.fields(), requests: dest.requests() };
  } finally {
    await watch.close();
  }
}

async function tideway(name, round) {
  const dest = await destination(name, 'tideway', round);
  try {
    const target =
      name === 'kinesis'
        ? `    kinesis: { stream: ${dest.stream} }\n`
        : `    s3: { bucket: ${dest.bucket}, prefix: "raw/dt=!{timestamp:yyyy-MM-dd}/", compression: none, bufferingHints: { sizeInMBs: 8, intervalInSeconds: 1 } }\n`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'peerbridge-')), 'routes.yaml');
    writeFileSync(file, `routes:\n  - name: ${dest.tag}\n    topics: [${topic}]\n${target}`);
    const bridge = await kit.startService('bridge', { BRIDGE_ROUTES: file, ...(name === 'kinesis' ? { AWS_ENDPOINT_URL_KINESIS: dest.endpoint } : {}) });
    try {
      return await deliver(dest, `tideway-bridge-${dest.tag}`, bridge, `tideway bridge → ${name}`);
    } finally {
      await bridge.stop();
    }
  } finally {
    await dest.close().catch(() => undefined);
  }
}

let camelClasspath;
async function camel(name, round) {
  camelClasspath ??= peers.javaClasspath('peer-camel', CAMEL_DIR);
  const dest = await destination(name, 'camel', round);
  try {
    const props = {
      'camel.main.routesIncludePattern': `file:${path.join(CAMEL_DIR, `${name}.yaml`)}`,
      topic,
      group: dest.tag,
      'kafka.brokers': process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      stream: dest.stream ?? 'unused',
      bucket: dest.bucket ?? 'unused',
      'kinesis.endpoint': name === 'kinesis' ? dest.endpoint : 'http://127.0.0.1:1',
      's3.endpoint': name === 's3' ? dest.endpoint : 'http://127.0.0.1:1',
    };
    const proc = peers.startJava({
      name: 'camel',
      // The directory first: its application.properties is camel-main's configuration.
      classpath: `${CAMEL_DIR}:${camelClasspath}`,
      main: 'org.apache.camel.main.Main',
      // The Kinesis client speaks JSON (as the endpoint does), not CBOR.
      jvmArgs: ['-Daws.cborEnabled=false', ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`)],
    });
    try {
      return await deliver(dest, dest.tag, proc, `camel → ${name}`);
    } catch (err) {
      err.message += `\n--- camel output (${proc.logFile}) ---\n${proc.output()}`;
      throw err;
    } finally {
      await proc.stop();
    }
  } finally {
    await dest.close().catch(() => undefined);
  }
}

async function main() {
  console.log(
    `load average ${require('node:os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`preloading ${COUNT} records of 1 KiB into ${topic} (${workload.PARTITIONS} partitions)…`);
  await workload.preload(kafka, topic, COUNT);
  try {
    for (const name of DESTINATIONS) {
      const results = await peers.alternate(RUNS, {
        tideway: (round) => tideway(name, round),
        camel: (round) => camel(name, round),
      });
      peers.compare(`peers-bridge-${name}`, `${COUNT} records of 1 KiB → ${name}`, results, {
        peer: 'camel',
        lowerIsBetter: [
          'seconds',
          'cpuSeconds',
          'cpuMicrosPerRecord',
          'secondHalfCpuMicrosPerRecord',
          'peakRssMiB',
          'recordsReceived',
          'duplicates',
          'requests',
        ],
      });
    }
  } finally {
    await workload.deleteTopic(kafka, topic);
  }
}

kit.run(main);
