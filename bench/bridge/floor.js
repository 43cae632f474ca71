#!/usr/bin/env node
/**
 * The least CPU per record any Node.js process can spend moving 1 KiB records from Kafka to Kinesis:
 * a loop that consumes the topic with the runtime's Kafka client (the one `tideway bridge` uses),
 * writes each 500-record PutRecords body with the bridge's own encoder
 * (`bridge/src/kinesis/put-records-protocol.ts`), signs it with the AWS SDK's SigV4 signer (SHA-256 of
 * the body, as every Kinesis request needs), posts it over a kept-alive HTTP connection, reads the
 * answer and commits offsets once a second. No per-key order, retry, shard map, rate limit,
 * metrics or logging: what `tideway bridge` spends above this is the price of its guarantees and its
 * observability; this is what a bridge cannot go below on this host.
 *
 *   npm run build && node bench/bridge/floor.js [records=200000] [runs=3]
 *
 * Each run first consumes the topic alone (a fresh group, nothing done per record), then runs the loop.
 *
 * The Kinesis endpoint is bench/bridge/kinesis-sink-server.js in a child process (its CPU is not
 * counted). CPU per record is this process's user+system time (the Kafka client's threads included)
 * from the first batch to the last answer, divided by the records: the same figure as
 * `node bench/bridge/bench.js <records> kinesis` prints for the bridge. Every run checks that the
 * endpoint received every record. Each run prints its line and `RESULT {json}` (bench/kit.js).
 */
'use strict';
const { randomBytes, createHash, createHmac } = require('node:crypto');
const { fork } = require('node:child_process');
const http = require('node:http');
const { join } = require('node:path');
const { SignatureV4 } = require('@smithy/signature-v4');
const workload = require('./workload');
const kit = require('../kit');

require(join(kit.ROOT, 'test-support', 'load-stack-env.js'));
const { createKafkaClient, createLogger } = require('@tideway/runtime');
const { putRecordsBody } = require(join(kit.ROOT, 'bridge', 'dist', 'kinesis', 'put-records-protocol.js'));

const COUNT = Number(process.argv[2] || 200_000);
const RUNS = Number(process.argv[3] || 3);
const RECORDS_PER_REQUEST = 500;
const REQUESTS_IN_FLIGHT = 8;
const id = randomBytes(3).toString('hex');
const topic = `bench-bridge-floor-${id}`;

/** The SDK's hash interface over node:crypto (what @smithy/hash-node does). */
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data) {
    this.hash.update(data);
  }
  digest() {
    return Promise.resolve(this.hash.digest());
  }
}

/** Starts the Kinesis endpoint in a child process; resolves to { url, records(), close() }. */
function startSinkProcess() {
  const child = fork(join(__dirname, 'kinesis-sink-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  kit.trackChild(child);
  const waiting = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m) => {
      if (m.url) {
        resolve({
          url: m.url,
          records: () =>
            new Promise((r) => {
              waiting.push(r);
              child.send('stats');
            }),
          close: () => kit.stopChild(child, 5000),
        });
      } else if (m.stats) waiting.shift()(m.stats.records);
    });
  });
}

/** POSTs a signed PutRecords body; resolves when the answer says every record was accepted. */
function putRecords(agent, endpoint, signer, body) {
  return signer
    .sign({
      method: 'POST',
      protocol: 'http:',
      hostname: endpoint.hostname,
      port: Number(endpoint.port),
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.PutRecords',
        'content-length': String(body.length),
      },
      body,
    })
    .then(
      (signed) =>
        new Promise((resolve, reject) => {
          const req = http.request({ agent, hostname: endpoint.hostname, port: endpoint.port, path: '/', method: 'POST', headers: signed.headers }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
              const answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (res.statusCode !== 200 || answer.FailedRecordCount !== 0)
                reject(new Error(`PutRecords: ${res.statusCode} ${JSON.stringify(answer).slice(0, 200)}`));
              else resolve(answer.Records.length);
            });
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end(body);
        }),
    );
}

function runtimeKafka() {
  return createKafkaClient(
    {
      kafkaBrokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','),
      kafkaClientId: 'bench-floor',
      kafkaSaslMechanism: 'none',
      kafkaTls: false,
      kafkaConnectionTimeoutMs: 10_000,
      kafkaClient: process.env.KAFKA_CLIENT || 'confluent',
    },
    createLogger('bench-floor', 'silent'),
  );
}

/** Consuming alone, with the same client and consumer settings: the part of the floor that is Kafka's. */
function consumeRun(run) {
  return kit.consumeMeasured(runtimeKafka(), { groupId: `${topic}-consume-${run}`, topic, count: COUNT, partitions: workload.PARTITIONS });
}

async function floorRun(run, sink) {
  const kafka = runtimeKafka();
  const endpoint = new URL(sink.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: REQUESTS_IN_FLIGHT });
  const signer = new SignatureV4({
    service: 'kinesis',
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'bench', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'bench' },
    sha256: Sha256,
  });
  const consumer = kafka.consumer({ groupId: `${topic}-floor-${run}`, fromBeginning: true, partitionsConsumedConcurrently: 4 });
  await consumer.connect();
  await consumer.subscribe([topic]);
  const sinkBefore = await sink.records();
  const toCommit = new Map(); // partition → next offset
  const commit = () => {
    const offsets = [...toCommit].map(([partition, offset]) => ({ topic, partition, offset }));
    toCommit.clear();
    return offsets.length > 0 ? consumer.commit(offsets) : Promise.resolve();
  };
  const committer = setInterval(() => void commit().catch(() => undefined), 1000);
  let measured;
  let delivered = 0;
  let result;
  let inFlight = 0;
  const slots = [];
  const slot = () => (inFlight < REQUESTS_IN_FLIGHT ? (inFlight++, Promise.resolve()) : new Promise((r) => slots.push(r)));
  const release = () => (slots.length > 0 ? slots.shift()() : inFlight--);
  await new Promise((resolve, reject) => {
    void consumer.run(async (batch) => {
      if (measured === undefined) measured = kit.measure(process.pid, { broker: true });
      const sends = [];
      for (let i = 0; i < batch.messages.length; i += RECORDS_PER_REQUEST) {
        const records = batch.messages.slice(i, i + RECORDS_PER_REQUEST).map((m) => ({ Data: m.value, PartitionKey: m.key.toString() }));
        await slot();
        sends.push(
          putRecords(agent, endpoint, signer, putRecordsBody({ StreamName: topic, Records: records })).then(
            (n) => {
              release();
              delivered += n;
              if (delivered >= COUNT && result === undefined) {
                result = measured.end(delivered);
                resolve();
              }
            },
            (err) => {
              release();
              reject(err);
            },
          ),
        );
      }
      await Promise.all(sends);
      const last = batch.messages[batch.messages.length - 1];
      if (last) toCommit.set(batch.partition, (BigInt(last.offset) + 1n).toString());
    });
  });
  clearInterval(committer);
  await commit();
  await consumer.disconnect();
  agent.destroy();
  const arrived = (await sink.records()) - sinkBefore;
  if (arrived !== COUNT) throw new Error(`the endpoint received ${arrived} records, expected ${COUNT}`);
  return result;
}

async function main() {
  const kafka = kit.benchKafka();
  console.log(`preloading ${COUNT} records of 1 KiB into ${topic} (${workload.PARTITIONS} partitions)…`);
  await workload.preload(kafka, topic, COUNT, workload.PARTITIONS);
  const sink = await startSinkProcess();
  const runs = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const c = await consumeRun(run);
      const r = await floorRun(run, sink);
      runs.push({ consume: c, floor: r });
      const common = { records: COUNT, recordBytes: 1024, kafkaClient: process.env.KAFKA_CLIENT || 'confluent' };
      kit.result(
        'bridge-floor',
        `consume-${run}`,
        { ...common, ...c },
        `run ${run}: consume alone ${Math.round(c.rate)} records/s, ${kit.cpuText(c.cpuMicrosPerRecord)}`,
      );
      kit.result(
        'bridge-floor',
        `floor-${run}`,
        { ...common, recordsPerRequest: RECORDS_PER_REQUEST, ...r },
        `run ${run}: consume → PutRecords ${Math.round(r.rate)} records/s (${r.seconds.toFixed(1)} s), ${kit.cpuText(r.cpuMicrosPerRecord)}, broker ${kit.cpuText(r.brokerCpuMicrosPerRecord)}`,
      );
    }
  } finally {
    await sink.close();
    await workload.deleteTopic(kafka, topic);
  }
  const median = (part) => {
    const values = runs.map((r) => r[part].cpuMicrosPerRecord);
    return `${kit.cpuText([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)])} (${values.join(' · ')})`;
  };
  console.log(`medians over ${runs.length} runs: consume alone ${median('consume')}; consume → PutRecords ${median('floor')}`);
}

kit.run(main);
