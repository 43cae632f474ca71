#!/usr/bin/env node
/**
 * Correctness of kafkajs 2.2.4 as published (without patches/kafkajs+2.2.4.patch: this package has its
 * own node_modules) against the local broker — the baseline for the candidates' checks.
 *   node bench/kafka-client/correctness/kafkajs.js [a b c d e f]
 * Evidence for choosing the client; not a test of Tideway code.
 */
'use strict';
const { Kafka, logLevel, Partitioners } = require('kafkajs');
const { BROKERS, unique, sleep, waitFor, keyPartition, runCases, withConnectedAdmin, writeNestedAborts, onlyCommittedVisible, assert } = require('./common');

const kafka = new Kafka({ brokers: BROKERS, clientId: 'kc-kafkajs', logLevel: logLevel.NOTHING });
const producer = (options = {}) =>
  kafka.producer({ idempotent: true, maxInFlightRequests: options.transactionalId ? 1 : 5, createPartitioner: Partitioners.DefaultPartitioner, ...options });

const withAdmin = (fn) => withConnectedAdmin(kafka, fn);

const createTopic = (topic, numPartitions = 1) => withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions }] }));

/** Reads a topic with a fresh group until `done(messages)`; `startAt` seeks partition 0 first. */
async function read(topic, { readCommitted = true, startAt, done }) {
  const consumer = kafka.consumer({ groupId: unique('g'), readUncommitted: !readCommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const seen = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: startAt === undefined });
    if (startAt !== undefined) consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic, partition: 0, offset: String(startAt) }));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push({ partition: batch.partition, offset: m.offset, value: m.value?.toString() });
      },
    });
    await waitFor(
      () => done(seen),
      () => `read ${JSON.stringify(seen)}`,
    );
    await sleep(1000);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

const cases = {
  async 'a read_committed inside nested aborted transactions'() {
    const topic = unique('rc');
    await createTopic(topic);
    await writeNestedAborts(producer, topic, { acks: -1 });
    return onlyCommittedVisible(read, topic);
  },

  async 'b zombie transactional producer fenced'() {
    const topic = unique('fence');
    await createTopic(topic);
    const txId = `${topic}-tx`;
    const zombie = producer({ transactionalId: txId });
    await zombie.connect();
    const tz = await zombie.transaction();
    await tz.send({ topic, acks: -1, messages: [{ partition: 0, value: 'zombie' }] });
    const owner = producer({ transactionalId: txId });
    await owner.connect();
    const to = await owner.transaction();
    await to.send({ topic, acks: -1, messages: [{ partition: 0, value: 'owner' }] });
    await to.commit();
    let zombieError;
    try {
      await tz.commit();
    } catch (err) {
      zombieError = `${err.name} type=${err.type} retriable=${err.retriable}: ${err.message}`;
    }
    await owner.disconnect();
    await zombie.disconnect().catch(() => undefined);
    const seen = await read(topic, { done: (s) => s.some((m) => m.value === 'owner') });
    assert(zombieError, 'the zombie committed');
    assert(seen.length === 1, `read_committed saw ${JSON.stringify(seen)}`);
    return { zombieCommit: zombieError, visible: seen.map((m) => m.value) };
  },

  async 'c 20 concurrent idempotent sends to one partition'() {
    const topic = unique('idem');
    await createTopic(topic);
    const p = producer();
    await p.connect();
    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => p.send({ topic, acks: -1, messages: [{ partition: 0, value: `v${i}` }] })));
    await p.disconnect();
    const rejected = settled.filter((s) => s.status === 'rejected');
    const seen = await read(topic, { readCommitted: false, done: () => true });
    const values = new Set(seen.map((m) => m.value));
    const observed = `${20 - rejected.length} sends resolved, ${rejected.length} rejected (${rejected[0]?.reason?.message ?? ''}); ${seen.length} records arrived, ${values.size} distinct`;
    assert(seen.length === 20 && values.size === 20 && rejected.length === 0, observed);
    return observed;
  },

  async 'd Java-compatible key partitioning'() {
    const partitions = 7;
    const topic = unique('part');
    await createTopic(topic, partitions);
    const keys = Array.from({ length: 300 }, (_, i) => `policy-${i * 7919}`);
    const p = producer();
    await p.connect();
    const results = [];
    for (const key of keys) results.push(await p.send({ topic, acks: -1, messages: [{ key, value: 'x' }] }));
    await p.disconnect();
    const mismatches = keys.filter((key, i) => results[i][0].partition !== keyPartition(key, partitions));
    assert(mismatches.length === 0, `${mismatches.length} mismatches`);
    return `DefaultPartitioner: ${mismatches.length}/${keys.length} keys on another partition than keyPartition()`;
  },

  async 'e new topic: create, produce, consume with a fresh group, 20 times'() {
    const p = producer();
    await p.connect();
    const errors = [];
    const topics = [];
    try {
      for (let i = 0; i < 20; i++) {
        const topic = unique('new');
        topics.push(topic);
        await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }));
        try {
          await p.send({ topic, acks: -1, messages: [{ value: `n${i}` }] });
        } catch (err) {
          errors.push(`send ${i}: ${err.name} retriable=${err.retriable} ${err.message}`);
          await p.send({ topic, acks: -1, messages: [{ value: `n${i}` }] }).catch((e) => errors.push(`retry ${i}: ${e.message}`));
        }
        const seen = await read(topic, { readCommitted: true, done: (s) => s.length >= 1 }).catch((err) => {
          errors.push(`consume ${i}: ${err.name} retriable=${err.retriable} ${err.message}`);
          return [];
        });
        if (seen.length !== 1 && !errors.some((e) => e.startsWith(`consume ${i}`))) errors.push(`consume ${i}: saw ${seen.length}`);
      }
    } finally {
      await p.disconnect();
      await withAdmin((admin) => admin.deleteTopics({ topics })).catch(() => undefined);
    }
    assert(errors.length === 0, `${errors.length} errors: ${errors.slice(0, 4).join(' | ')}`);
    return '20/20 created, produced to at once and consumed, no error surfaced';
  },
};

console.log(`kafkajs ${require('kafkajs/package.json').version} (unpatched), Node ${process.version}`);
runCases('kafkajs', cases).then(
  (r) => process.exit(Object.values(r).every((x) => x.pass) ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
