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
 *   cd bench/kafka-client && npm ci   (see docs/benchmarks.md for the native build of the confluent client)
 *   node bench/kafka-client/compare.js [records=50000] [size=1024] [runs=2] [clients=kafkajs,platformatic,confluent]
 * Needs the local stack (`npm run stack:up`). Evidence for choosing the client behind the runtime's
 * KafkaClient interface; not a test.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { execFileSync } = require('node:child_process');

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BATCH = 500;
const PARTITIONS = 4;

function measure(n) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    return { seconds: +seconds.toFixed(2), rate: Math.round(n / seconds), cpuUsPerRecord: +((cpu.user + cpu.system) / n).toFixed(2) };
  };
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
    let done = measure(n);
    for (let i = 0; i < n; i += BATCH) {
      const messages = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) messages.push({ key: key(j), value: value(j) });
      await producer.send({ topic, acks: -1, messages });
    }
    const produce = done();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `bench-kafkajs-${randomUUID()}`, maxBytesPerPartition: 2 * 1048576 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    done = measure(n);
    await new Promise((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= n) resolve();
        },
      });
    });
    const consume = done();
    await consumer.disconnect();
    return { produce, consume };
  },

  async platformatic(topic, n, size) {
    const { Producer, Consumer, ProduceAcks, compatibilityPartitioner } = await import('@platformatic/kafka');
    const { key, value } = records(n, size);
    const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: BROKERS, idempotent: true, partitioner: compatibilityPartitioner });
    let done = measure(n);
    for (let i = 0; i < n; i += BATCH) {
      const messages = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) messages.push({ topic, key: key(j), value: value(j) });
      await producer.send({ messages, acks: ProduceAcks.ALL });
    }
    const produce = done();
    await producer.close();

    const consumer = new Consumer({ clientId: 'bench-platformatic', groupId: `bench-platformatic-${randomUUID()}`, bootstrapBrokers: BROKERS, maxBytesPerPartition: 2 * 1048576 });
    let seen = 0;
    done = measure(n);
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
    const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 }, partitioner: 'murmur2_random', ...extra('BENCH_CONFLUENT_PRODUCER') });
    await producer.connect();
    let done = measure(n);
    for (let i = 0; i < n; i += BATCH) {
      const messages = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) messages.push({ key: key(j), value: value(j) });
      await producer.send({ topic, messages });
    }
    const produce = done();
    await producer.disconnect();

    const consumer = kafka.consumer({
      kafkaJS: { groupId: `bench-confluent-${randomUUID()}`, fromBeginning: true, autoCommit: false, maxBytesPerPartition: 2 * 1048576 },
      'js.consumer.max.batch.size': BATCH,
      ...extra('BENCH_CONFLUENT_CONSUMER'),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    let seen = 0;
    done = measure(n);
    await new Promise((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= n) resolve();
        },
      });
    });
    const consume = done();
    await consumer.disconnect();
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
  const rows = [];
  for (let run = 1; run <= Number(runs); run++) {
    // Alternate the order between runs so no client always runs first (or last) on the shared broker.
    const order = clients.split(',');
    if (run % 2 === 0) order.reverse();
    for (const client of order) {
      const out = JSON.parse(execFileSync(process.execPath, [process.argv[1], '--one', client, n, size], { encoding: 'utf8', maxBuffer: 1 << 20 }));
      const row = { run, client: version(client), ...out };
      rows.push(row);
      console.log(JSON.stringify(row));
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
