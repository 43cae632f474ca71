#!/usr/bin/env node
// Does kafkajs (the version in node_modules) work with the Kafka broker at $KAFKA_BROKERS?
// Run it when changing KAFKA_VERSION in scripts/stack/lib.sh:
//   KAFKA_BROKERS=127.0.0.1:9092 node scripts/stack/kafka-compat-check.js
// Checks: admin createTopics; idempotent produce; consumer-group consume + commit;
// transactional producer with sendOffsets (consume-transform-produce); a second
// consumer joining the group (rebalance); a read_committed consumer sees only
// committed transactional records. Exits non-zero on the first failure.
'use strict';

const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const { Kafka, logLevel } = require(require.resolve('kafkajs', { paths: [root] }));
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');

const kafka = new Kafka({ clientId: 'compat-check', brokers, logLevel: logLevel.WARN, retry: { retries: 8 } });
const run = `${Date.now()}-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const steps = [];
async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    steps.push(`ok    ${name} (${Date.now() - t} ms)`);
    console.log(steps[steps.length - 1]);
  } catch (err) {
    console.log(`FAIL  ${name}: ${err && err.stack ? err.stack : err}`);
    throw err;
  }
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  const input = `compat-in-${run}`;
  const output = `compat-out-${run}`;
  const group = `compat-group-${run}`;

  await step('broker: describeCluster / ApiVersions', async () => {
    const c = await admin.describeCluster();
    console.log(`      cluster ${c.clusterId}, brokers ${c.brokers.map((b) => `${b.host}:${b.port}`).join(',')}`);
  });

  await step('admin.createTopics (3 partitions) + fetchTopicMetadata', async () => {
    const created = await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 3 },
        { topic: output, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    if (!created) throw new Error('createTopics returned false');
    const md = await admin.fetchTopicMetadata({ topics: [input] });
    if (md.topics[0].partitions.length !== 3) throw new Error('wrong partition count');
  });

  await step('idempotent producer: send 30 records (acks=all)', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })) });
    await producer.disconnect();
  });

  const consumed = new Set();
  const c1 = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500, rebalanceTimeout: 10000 });
  await step('consumer group: join, consume all 30, commit', async () => {
    await c1.connect();
    await c1.subscribe({ topic: input, fromBeginning: true });
    await c1.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        consumed.add(message.value.toString());
        await c1.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    await until('30 records consumed', () => consumed.size === 30);
    await until('offsets committed', async () => {
      const offs = await admin.fetchOffsets({ groupId: group, topics: [input] });
      return offs[0].partitions.reduce((n, p) => n + Number(p.offset), 0) === 30;
    });
  });

  await step('second consumer joins the group (rebalance)', async () => {
    const assigned = { c1: 0, c2: 0 };
    const c2 = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500, rebalanceTimeout: 10000 });
    c1.on(c1.events.GROUP_JOIN, (e) => (assigned.c1 = Object.values(e.payload.memberAssignment).flat().length));
    c2.on(c2.events.GROUP_JOIN, (e) => (assigned.c2 = Object.values(e.payload.memberAssignment).flat().length));
    await c2.connect();
    await c2.subscribe({ topic: input, fromBeginning: true });
    await c2.run({ eachMessage: async () => {} });
    await until('both members assigned partitions', () => assigned.c1 > 0 && assigned.c2 > 0 && assigned.c1 + assigned.c2 === 3, 60000);
    const d = await admin.describeGroups([group]);
    if (d.groups[0].members.length !== 2) throw new Error(`group has ${d.groups[0].members.length} members`);
    await c2.disconnect();
  });
  await c1.disconnect();

  await step('transactional producer: send + sendOffsets + commit; abort is invisible', async () => {
    const tx = kafka.producer({ transactionalId: `compat-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const t1 = await tx.transaction();
    await t1.send({ topic: output, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await t1.sendOffsets({ consumerGroupId: `${group}-tx`, topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }] });
    await t1.commit();
    const t2 = await tx.transaction();
    await t2.send({ topic: output, messages: [{ value: 'aborted-1' }] });
    await t2.abort();
    await tx.disconnect();
    const offs = await admin.fetchOffsets({ groupId: `${group}-tx`, topics: [input] });
    const p0 = offs[0].partitions.find((p) => p.partition === 0);
    if (p0.offset !== '5') throw new Error(`sendOffsets: committed offset ${p0.offset}, expected 5`);
  });

  await step('read_committed consumer sees only committed transactional records', async () => {
    const seen = [];
    const c3 = kafka.consumer({ groupId: `${group}-rc`, readUncommitted: false });
    await c3.connect();
    await c3.subscribe({ topic: output, fromBeginning: true });
    await c3.run({ eachMessage: async ({ message }) => void seen.push(message.value.toString()) });
    await until('2 committed records', () => seen.length >= 2);
    await sleep(1000);
    await c3.disconnect();
    if (seen.join(',') !== 'committed-1,committed-2') throw new Error(`saw ${seen.join(',')}`);
  });

  await step('admin.deleteTopics', async () => {
    await admin.deleteTopics({ topics: [input, output] });
  });
  await admin.disconnect();
  console.log(`kafkajs works with the broker at ${brokers.join(',')}: ${steps.length} checks passed`);
}

main().then(
  () => process.exit(0),
  () => process.exit(1),
);
