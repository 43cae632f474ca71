/**
 * The bridge benchmarks' workload and delivery checks, shared by bench/bridge/bench.js and
 * bench/peers/bridge.js: a pre-loaded topic of 1 KiB JSON records (`{"seq":n,"key":…,"pad":…}`,
 * keys k0…k9999), the record number read back from what a destination received (a Kinesis record's
 * data, a line of an S3 object), a count of the distinct records that arrived, and the timed
 * interval of a process's delivery: from its consumer group's start (or from the first record that
 * arrived) until every record arrived.
 */
'use strict';
const { gunzipSync } = require('node:zlib');
const { ListObjectsV2Command, GetObjectCommand, DeleteObjectsCommand, DeleteBucketCommand } = require('@aws-sdk/client-s3');
const kit = require('../kit');

const RECORD_BYTES = 1024;
const PARTITIONS = 4;
const PAD = 'x'.repeat(RECORD_BYTES);

/** Record `seq` of the workload: its key and a JSON value padded to exactly RECORD_BYTES bytes. */
function workloadRecord(seq) {
  const key = `k${seq % 10000}`;
  const head = JSON.stringify({ seq, key, pad: '' });
  return { key, value: head.replace('"pad":""', `"pad":"${PAD.slice(0, RECORD_BYTES - head.length)}"`) };
}

/** Creates `topic` (PARTITIONS partitions) and writes records 0…count-1 into it. */
async function preload(kafka, topic, count, partitions = PARTITIONS) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic, partitions, replicationFactor: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < count; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) batch.push({ topic, ...workloadRecord(j) });
    await producer.send(batch);
  }
  await producer.disconnect();
}

async function deleteTopic(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics([topic]).catch(() => undefined);
  await admin.disconnect();
}

const SEQ = /^\{"seq":(\d+),/;

/**
 * Which of records 0…total-1 arrived: `add(seq)` per record received; `distinct` of them,
 * `received` in all (a record received twice counts once in `distinct`), `foreign` that were not
 * records of the workload.
 */
function deliveryCounter(total) {
  const seen = new Uint8Array(total);
  const c = {
    total,
    received: 0,
    distinct: 0,
    foreign: 0,
    /** One record's value (a Buffer or string) as it arrived. */
    addValue(value) {
      const m = SEQ.exec(typeof value === 'string' ? value.slice(0, 32) : value.toString('latin1', 0, 32));
      c.add(m ? Number(m[1]) : -1);
    },
    add(seq) {
      c.received++;
      if (!(seq >= 0 && seq < total)) c.foreign++;
      else if (seen[seq] === 0) {
        seen[seq] = 1;
        c.distinct++;
      }
    },
    /** Throws unless every record arrived, and nothing else. */
    check(where) {
      if (c.distinct !== total || c.foreign !== 0)
        throw new Error(`${where}: ${c.distinct} of ${total} records arrived (${c.received} received, ${c.foreign} not of the workload)`);
    },
    fields: () => ({ recordsReceived: c.received, recordsDistinct: c.distinct, duplicates: c.received - c.distinct }),
  };
  return c;
}

/** Counts the records of a Kinesis sink server (kinesis-sink-server.js) by their data. */
function countKinesisRecords(sink, counter) {
  sink.onRecord = (base64) => counter.addValue(Buffer.from(base64.slice(0, 44), 'base64'));
  return counter;
}

/**
 * Reads every new object of `bucket` (gzip or plain JSON lines) into `counter`; `poll()` once, call
 * again to pick up objects written since. Objects are read once each (by key).
 */
function s3Lines(s3, bucket, counter) {
  const read = new Set();
  return {
    counter,
    objects: () => read.size,
    async poll() {
      let token;
      do {
        const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        for (const o of res.Contents ?? []) {
          if (read.has(o.Key)) continue;
          read.add(o.Key);
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
          let body = Buffer.from(await got.Body.transformToByteArray());
          if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
          let start = 0;
          while (start < body.length) {
            let end = body.indexOf(10, start);
            if (end < 0) end = body.length;
            if (end > start) counter.addValue(body.subarray(start, end));
            start = end + 1;
          }
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    },
  };
}

async function emptyBucket(s3, bucket) {
  for (;;) {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (!res.Contents || res.Contents.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: res.Contents.map((o) => ({ Key: o.Key })) } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * `started()` resolves true once consumer group `groupId` is Stable with a member (the classic
 * group protocol, as every client here uses): the moment its consumer starts fetching.
 */
function groupStable(groupId) {
  const { Kafka, logLevel } = require('kafkajs');
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const admin = new Kafka({ clientId: 'bench-group-watch', brokers, logLevel: logLevel.NOTHING }).admin();
  let connected;
  return {
    async started() {
      connected ??= admin.connect();
      await connected;
      const { groups } = await admin.describeGroups([groupId]);
      return groups[0]?.state === 'Stable' && groups[0].members.length > 0;
    },
    close: () => admin.disconnect().catch(() => undefined),
  };
}

/**
 * The timed interval of one delivery by the process `pid`: from `started()` (checked every
 * `startPollMs`; by default: the first record arrived at the destination) until all
 * `counter.total` distinct records arrived (checked every `pollMs`, after `poll()`). The process's
 * CPU (bench/kit.js measure) is sampled at both ends. Throws if `alive()` turns false, or nothing
 * new arrives for `stallMs` after the start. Also sampled when half the records had arrived:
 * secondHalfCpuMicrosPerRecord is the CPU per record from then on.
 * Returns { seconds, rate, cpuSeconds, cpuMicrosPerRecord, recordsPerCpuSecond,
 * secondHalfCpuMicrosPerRecord, peakRssMiB }.
 */
async function timeDelivery({
  pid,
  counter,
  started = async () => counter.received > 0,
  startPollMs = 20,
  poll = async () => undefined,
  alive = () => true,
  pollMs = 5,
  stallMs = 120_000,
  what,
}) {
  const startBy = Date.now() + 300_000;
  while (!(await started())) {
    if (!alive()) throw new Error(`${what}: the process exited before it started`);
    if (Date.now() > startBy) throw new Error(`${what}: not started after 300 s`);
    await poll();
    await kit.sleep(startPollMs);
  }
  const run = kit.measure(pid);
  let half;
  let last = -1;
  let lastAt = Date.now();
  while (counter.distinct < counter.total) {
    await poll();
    if (half === undefined && counter.distinct >= counter.total / 2) half = { mark: run.mark(), records: counter.distinct };
    if (counter.distinct !== last) {
      last = counter.distinct;
      lastAt = Date.now();
    }
    if (!alive()) throw new Error(`${what}: the process exited with ${counter.distinct} of ${counter.total} records delivered`);
    if (Date.now() - lastAt > stallMs)
      throw new Error(`${what}: nothing new for ${stallMs / 1000} s, ${counter.distinct} of ${counter.total} records delivered`);
    if (counter.distinct < counter.total) await kit.sleep(pollMs);
  }
  const end = run.mark();
  const r = run.end(counter.total, end);
  // The second half alone: start-up work (class loading, a JIT's first compilations) mostly behind.
  const rest = counter.total - (half?.records ?? 0);
  const restCpu = half && rest > 0 ? end.cpu - half.mark.cpu : NaN;
  return {
    seconds: +r.seconds.toFixed(3),
    rate: Math.round(r.rate),
    cpuSeconds: r.cpuSeconds,
    cpuMicrosPerRecord: r.cpuMicrosPerRecord,
    recordsPerCpuSecond: Math.round(counter.total / r.cpuSeconds),
    secondHalfCpuMicrosPerRecord: +((restCpu * 1e6) / rest).toFixed(2),
    peakRssMiB: +kit.peakRssMiB(pid).toFixed(1),
  };
}

module.exports = {
  RECORD_BYTES,
  PARTITIONS,
  workloadRecord,
  preload,
  deleteTopic,
  deliveryCounter,
  groupStable,
  countKinesisRecords,
  s3Lines,
  emptyBucket,
  timeDelivery,
};
