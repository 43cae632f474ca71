#!/usr/bin/env node
/**
 * Measures the Kafka client candidates for every role on the same broker and records:
 *   kafkajs 2.2.4 (unpatched), @platformatic/kafka 2.x (pure JS), @confluentinc/kafka-javascript
 *   (librdkafka, KafkaJS-compatible API) — as installed in bench/kafka-client/node_modules.
 *   produce: N records of SIZE bytes, 1,000 keys, batches of 500, acks=all, idempotent, awaited one batch at a time
 *   consume: the same topic from the beginning with a fresh group, the library's batch API where it has one,
 *            no work per record
 * Each (run, client) is a child process of its own, clients alternating within a run, so CPU is that
 * client's alone: user+system of the process over the phase (process.cpuUsage includes librdkafka's threads).
 *
 *   (cd bench/kafka-client && CKJS_LINKING=dynamic npm ci)   (see docs/benchmarks.md for the native build of the confluent client)
 *   node bench/kafka-client/compare.js [records=50000] [size=1024] [runs=2] [clients=kafkajs,platformatic,confluent]
 *   e.g. node bench/kafka-client/compare.js 10000 1024 1   (a short check)
 * Needs the local stack (`npm run stack:up`) and its own `npm ci` above; it runs no Tideway service, so
 * no `npm run build` (bench/kafka-client/correctness/ needs one: it loads services/runtime/dist/).
 * CPU per record (cpuUsPerRecord, µs CPU/record): user + system CPU of the client's process over the
 * phase (produce: the first send until the last batch acknowledged; consume: the run's start until
 * the n-th record) divided by the records. Each (run, client) prints its line and `RESULT {json}`
 * (bench/kit.js). Evidence for choosing the client behind the runtime's KafkaClient interface; not a test.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const kit = require('../kit');

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BATCH = 500;
const PARTITIONS = 4;

/** Wall time and this process's CPU (process.cpuUsage, which includes librdkafka's threads) from now. */
function measure(n) {
  const run = kit.measure(process.pid);
  return () => {
    const r = run.end(n);
    return { seconds: +r.seconds.toFixed(2), rate: Math.round(r.rate), cpuUsPerRecord: r.cpuMicrosPerRecord };
  };
}

/** Produces n records in batches of BATCH, each batch awaited: `message(i)` builds one, `send(batch)` sends it. */
async function produceAll(n, message, send) {
  const done = measure(n);
  for (let i = 0; i < n; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) messages.push(message(j));
    await send(messages);
  }
  return done();
}

/** Runs a KafkaJS-API consumer (kafkajs, confluent's KafkaJS) with eachBatch until it has seen n records. */
async function consumeAll(consumer, n, runOptions = {}) {
  let seen = 0;
  const done = measure(n);
  await new Promise((resolve) => {
    void consumer.run({
      ...runOptions,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= n) resolve();
      },
    });
  });
  const consume = done();
  await consumer.disconnect();
  return consume;
}

function records(n, size) {
  const filler = 'x'.repeat(Math.max(0, size - 40));
  return {
    key: (i) => Buffer.from(`policy-${i % 1000}`),
    value: (i) => Buffer.from(JSON.stringify({ id: i, policy_id: i % 1000, note: filler })),
  };
}

const runners = {
  async kafkajs(topic, n, size) {
    const { Kafka, logLevel, Partitioners } = require('kafkajs');
    const { key, value } = records(n, size);
    const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: BROKERS, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const produce = await produceAll(
      n,
      (j) => ({ key: key(j), value: value(j) }),
      (messages) => producer.send({ topic, acks: -1, messages }),
    );
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `bench-kafkajs-${randomUUID()}`, maxBytesPerPartition: 2 * 1048576 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const consume = await consumeAll(consumer, n, { autoCommit: false });
    return { produce, consume };
  },

  async platformatic(topic, n, size) {
    const { Producer, Consumer, ProduceAcks, compatibilityPartitioner } = await import('@platformatic/kafka');
    const { key, value } = records(n, size);
    const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: BROKERS, idempotent: true, partitioner: compatibilityPartitioner });
    const produce = await produceAll(
      n,
      (j) => ({ topic, key: key(j), value: value(j) }),
      (messages) => producer.send({ messages, acks: ProduceAcks.ALL }),
    );
    await producer.close();

    const consumer = new Consumer({
      clientId: 'bench-platformatic',
      groupId: `bench-platformatic-${randomUUID()}`,
      bootstrapBrokers: BROKERS,
      maxBytesPerPartition: 2 * 1048576,
    });
    let seen = 0;
    const done = measure(n);
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    await new Promise((resolve, reject) => {
      stream.on('error', reject);
      stream.on('data', () => {
        if (++seen === n) resolve();
      });
    });
    const consume = done();
    await stream.close();
    await consumer.close();
    return { produce, consume };
  },

  async confluent(topic, n, size) {
    const { Kafka, logLevel } = require('@confluentinc/kafka-javascript').KafkaJS;
    const { key, value } = records(n, size);
    const kafka = new Kafka({ kafkaJS: { clientId: 'bench-confluent', brokers: BROKERS, logLevel: logLevel.NOTHING } });
    // BENCH_CONFLUENT_PRODUCER / _CONSUMER: extra librdkafka settings (JSON) to try, e.g. '{"linger.ms":0}'.
    const extra = (name) => JSON.parse(process.env[name] ?? '{}');
    const producer = kafka.producer({
      kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 },
      partitioner: 'murmur2_random',
      ...extra('BENCH_CONFLUENT_PRODUCER'),
    });
    await producer.connect();
    const produce = await produceAll(
      n,
      (j) => ({ key: key(j), value: value(j) }),
      (messages) => producer.send({ topic, messages }),
    );
    await producer.disconnect();

    const consumer = kafka.consumer({
      kafkaJS: { groupId: `bench-confluent-${randomUUID()}`, fromBeginning: true, autoCommit: false, maxBytesPerPartition: 2 * 1048576 },
      'js.consumer.max.batch.size': BATCH,
      ...extra('BENCH_CONFLUENT_CONSUMER'),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const consume = await consumeAll(consumer, n);
    return { produce, consume };
  },
};

async function one(client, n, size) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ clientId: 'bench-admin', brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topic = `bench-client-${client}-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  try {
    return await runners[client](topic, n, size);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

function version(client) {
  const name = { kafkajs: 'kafkajs', platformatic: '@platformatic/kafka', confluent: '@confluentinc/kafka-javascript' }[client];
  return `${name} ${require(require('node:path').join(__dirname, 'node_modules', name, 'package.json')).version}`;
}

async function main() {
  if (process.argv[2] === '--one') {
    const [, , , client, n, size] = process.argv;
    process.stdout.write(JSON.stringify(await one(client, Number(n), Number(size))));
    return;
  }
  const [n = '50000', size = '1024', runs = '2', clients = 'kafkajs,platformatic,confluent'] = process.argv.slice(2);
  console.log(`${n} records of ${size} B, ${PARTITIONS} partitions, Node ${process.version}, ${new Date().toISOString()}`);
  for (let run = 1; run <= Number(runs); run++) {
    // Alternate the order between runs so no client always runs first (or last) on the shared broker.
    const order = clients.split(',');
    if (run % 2 === 0) order.reverse();
    for (const client of order) {
      const out = JSON.parse(execFileSync(process.execPath, [process.argv[1], '--one', client, n, size], { encoding: 'utf8', maxBuffer: 1 << 20 }));
      const row = { run, client: version(client), ...out };
      const figures = (phase) => `${phase} ${out[phase].rate} records/s, ${kit.cpuText(out[phase].cpuUsPerRecord)}`;
      kit.result('kafka-client', run, row, `${row.client} (run ${run}): ${figures('produce')}; ${figures('consume')}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
