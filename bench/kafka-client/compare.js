#!/usr/bin/env node
/**
 * Measures the Kafka client that every service sits on: kafkajs 2.2.4 (in use, no upstream releases)
 * against @platformatic/kafka (maintained, pure JS, transactions; newest releases need Node ≥ 22, 1.35
 * runs on Node 20). Same broker, same records, one client at a time, in this one process:
 *   produce: N records of ~200 B, 1,000 keys, batches of 500, acks=all, idempotent, awaited one batch at a time
 *   consume: the same topic from the beginning with a fresh group, no work per record
 * Prints records/s and CPU µs per record (user+system of this process over the phase).
 *
 *   node bench/kafka-client/compare.js [records=200000]
 * Needs the local stack (`npm run stack:up`). Evidence for swapping the client behind the runtime's
 * KafkaClient interface; not a test.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { Kafka, logLevel, Partitioners } = require('kafkajs');

const N = Number(process.argv[2] ?? 200_000);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BATCH = 500;
const PARTITIONS = 4;
const value = (i) => Buffer.from(JSON.stringify({ id: i, policy_id: i % 1000, amount: '1234.56', note: 'x'.repeat(120) }));
const key = (i) => Buffer.from(`policy-${i % 1000}`);

function measure() {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    return { seconds, rate: Math.round(N / seconds), cpuUsPerRecord: +((cpu.user + cpu.system) / N).toFixed(2) };
  };
}

async function kafkajsRun(topic) {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let done = measure();
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) messages.push({ key: key(j), value: value(j) });
    await producer.send({ topic, acks: -1, messages });
  }
  const produce = done();
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${randomUUID()}`, maxBytesPerPartition: 2 * 1048576 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  done = measure();
  await new Promise((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= N) resolve();
      },
    });
  });
  const consume = done();
  await consumer.disconnect();
  return { produce, consume };
}

async function platformaticRun(topic) {
  const { Producer, Consumer, ProduceAcks } = await import('@platformatic/kafka');
  const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers: BROKERS, idempotent: true });
  let done = measure();
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) messages.push({ topic, key: key(j), value: value(j) });
    await producer.send({ messages, acks: ProduceAcks.ALL });
  }
  const produce = done();
  await producer.close();

  const consumer = new Consumer({ clientId: 'bench-platformatic', groupId: `bench-platformatic-${randomUUID()}`, bootstrapBrokers: BROKERS, maxBytesPerPartition: 2 * 1048576 });
  let seen = 0;
  done = measure();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  await new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', () => {
      if (++seen === N) resolve();
    });
  });
  const consume = done();
  await stream.close();
  await consumer.close();
  return { produce, consume };
}

async function main() {
  const admin = new Kafka({ clientId: 'bench-admin', brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = { kafkajs: `bench-client-kafkajs-${randomUUID().slice(0, 8)}`, platformatic: `bench-client-platformatic-${randomUUID().slice(0, 8)}` };
  await admin.createTopics({ waitForLeaders: true, topics: Object.values(topics).map((t) => ({ topic: t, numPartitions: PARTITIONS })) });
  try {
    const results = { records: N, kafkajs: await kafkajsRun(topics.kafkajs), platformatic: await platformaticRun(topics.platformatic) };
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
