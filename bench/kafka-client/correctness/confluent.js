#!/usr/bin/env node
/**
 * Correctness of @confluentinc/kafka-javascript (librdkafka), KafkaJS-compatible API, unpatched,
 * against the local broker: the cases the runtime's KafkaClient relies on.
 *   node bench/kafka-client/correctness/confluent.js [a b c d e f]
 * Evidence for choosing the client; not a test of Tideway code.
 */
'use strict';
const { KafkaJS, librdkafkaVersion } = require('@confluentinc/kafka-javascript');
const { BROKERS, unique, sleep, waitFor, keyPartition, runCases, withConnectedAdmin, writeNestedAborts, onlyCommittedVisible, assert } = require('./common');

const { Kafka, logLevel, ErrorCodes } = KafkaJS;
const kafka = new Kafka({ kafkaJS: { brokers: BROKERS, clientId: 'kc-confluent', logLevel: logLevel.NOTHING } });

// linger.ms 5 keeps awaited single sends quick; partitioner: the Java client's murmur2.
const producer = (kafkaJS = {}, extra = {}) =>
  kafka.producer({ kafkaJS: { acks: -1, idempotent: true, ...kafkaJS }, 'linger.ms': 5, partitioner: 'murmur2_random', ...extra });

const withAdmin = (fn) => withConnectedAdmin(kafka, fn);

// fetchTopicMetadata resolves to an array of topics (kafkajs: { topics }); createTopics has no waitForLeaders.
async function createTopic(topic, numPartitions = 1) {
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
    await waitFor(
      async () =>
        (await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null))?.[0]?.partitions?.filter((x) => x.leader >= 0).length === numPartitions,
      () => `metadata of ${topic}`,
    );
  });
}

/** Reads a topic with a fresh group until `done(messages)`; `startAt` seeks partition 0 first. */
async function read(topic, { readCommitted = true, startAt, done }) {
  const consumer = kafka.consumer({
    kafkaJS: { groupId: unique('g'), fromBeginning: startAt === undefined, autoCommit: false, readUncommitted: !readCommitted, maxWaitTimeInMs: 100 },
  });
  await consumer.connect();
  const seen = [];
  try {
    await consumer.subscribe({ topics: [topic] });
    if (startAt !== undefined) consumer.seek({ topic, partition: 0, offset: String(startAt) });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push({ partition: batch.partition, offset: m.offset, value: m.value?.toString() });
      },
    });
    await waitFor(
      () => done(seen),
      () => `read ${JSON.stringify(seen)}`,
    );
    await sleep(1000); // anything after the expected records would show up now
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

const cases = {
  async 'a read_committed inside nested aborted transactions'() {
    const topic = unique('rc');
    await createTopic(topic);
    await writeNestedAborts(producer, topic, {});
    return onlyCommittedVisible(read, topic);
  },

  async 'b zombie transactional producer fenced'() {
    const topic = unique('fence');
    await createTopic(topic);
    const txId = `${topic}-tx`;
    const zombie = producer({ transactionalId: txId });
    await zombie.connect();
    const tz = await zombie.transaction();
    await tz.send({ topic, messages: [{ partition: 0, value: 'zombie' }] });
    const owner = producer({ transactionalId: txId });
    await owner.connect(); // InitProducerId with the same id: bumps the epoch, aborts the zombie's transaction
    const to = await owner.transaction();
    await to.send({ topic, messages: [{ partition: 0, value: 'owner' }] });
    await to.commit();
    let zombieError;
    try {
      await tz.commit();
    } catch (err) {
      zombieError = `${err.name} code=${err.code} type=${err.type} fatal=${err.fatal} abortable=${err.abortable} retriable=${err.retriable}: ${err.message}`;
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
    const p = producer({ maxInFlightRequests: 5 });
    await p.connect();
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.send({ topic, messages: [{ partition: 0, value: `v${i}` }] })));
    await p.disconnect();
    const seen = await read(topic, { readCommitted: false, done: (s) => s.length >= 20 });
    const values = new Set(seen.map((m) => m.value));
    assert(seen.length === 20 && values.size === 20, `saw ${seen.length} records, ${values.size} distinct`);
    return `${seen.length} records, ${values.size} distinct, offsets ${seen[0].offset}..${seen.at(-1).offset}`;
  },

  async 'd Java-compatible key partitioning'() {
    const partitions = 7;
    const topic = unique('part');
    await createTopic(topic, partitions);
    const keys = Array.from({ length: 300 }, (_, i) => `policy-${i * 7919}`);
    const out = {};
    for (const [label, extra] of [
      ['partitioner murmur2_random', {}],
      ['librdkafka default (no partitioner)', { partitioner: undefined }],
    ]) {
      const config = { kafkaJS: { acks: -1, idempotent: true }, 'linger.ms': 5, partitioner: 'murmur2_random', ...extra };
      if (config.partitioner === undefined) delete config.partitioner;
      const p = kafka.producer(config);
      await p.connect();
      const results = await Promise.all(keys.map((key) => p.send({ topic, messages: [{ key, value: 'x' }] })));
      await p.disconnect();
      const mismatches = keys.filter((key, i) => results[i][0].partition !== keyPartition(key, partitions));
      out[label] = `${mismatches.length}/${keys.length} keys on another partition than keyPartition()`;
    }
    assert(out['partitioner murmur2_random'].startsWith('0/'), JSON.stringify(out));
    return out;
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
          await p.send({ topic, messages: [{ value: `n${i}` }] });
        } catch (err) {
          errors.push(`send ${i}: code=${err.code} retriable=${err.retriable} ${err.message}`);
          await p.send({ topic, messages: [{ value: `n${i}` }] });
        }
        const seen = await read(topic, { readCommitted: true, done: (s) => s.length >= 1 }).catch((err) => {
          errors.push(`consume ${i}: ${err.message}`);
          return [];
        });
        if (seen.length !== 1) errors.push(`consume ${i}: saw ${seen.length}`);
      }
    } finally {
      await p.disconnect();
      await withAdmin((admin) => admin.deleteTopics({ topics })).catch(() => undefined);
    }
    assert(errors.length === 0, errors.join(' | '));
    return '20/20 created, produced to at once and consumed, no error surfaced';
  },

  async 'f group: assignment events, batches, pause/resume, seek, explicit commit, sendOffsets'() {
    const topic = unique('grp');
    const outTopic = `${topic}-out`;
    await createTopic(topic, 2);
    await createTopic(outTopic, 1);
    const groupId = unique('grp');
    const p = producer();
    await p.connect();
    for (const partition of [0, 1]) {
      await p.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition, value: `p${partition}-${i}` })) });
    }
    await p.disconnect();

    const assignments = [];
    const consumer = kafka.consumer({
      kafkaJS: { groupId, fromBeginning: true, autoCommit: false, maxWaitTimeInMs: 100 },
      'js.consumer.max.batch.size': 50,
      rebalance_cb: (err, assignment) => {
        assignments.push(
          `${err.code === ErrorCodes.ERR__ASSIGN_PARTITIONS ? 'assign' : err.code === ErrorCodes.ERR__REVOKE_PARTITIONS ? 'revoke' : err.code} ${assignment.map((a) => `${a.topic}/${a.partition}`).join(',')}`,
        );
      },
    });
    const seen = { 0: [], 1: [] };
    const batchSizes = [];
    const tx = producer({ transactionalId: `${topic}-tx` });
    await tx.connect();
    await consumer.connect();
    const observed = {};
    try {
      await consumer.subscribe({ topics: [topic] });
      let pausedOnce = false;
      await consumer.run({
        eachBatch: async ({ batch }) => {
          if (!pausedOnce) {
            pausedOnce = true;
            consumer.pause([{ topic, partitions: [1] }]);
            observed.pausedDuring = `pause(partition 1) called while handling a batch of partition ${batch.partition} from offset ${batch.messages[0].offset}`;
          }
          batchSizes.push(`p${batch.partition}:${batch.messages.length}`);
          for (const m of batch.messages) seen[batch.partition].push(Number(m.offset));
        },
      });
      await waitFor(
        () => assignments.length > 0,
        () => 'no assignment callback',
      );
      await waitFor(
        () => seen[0].length >= 20,
        () => `p0 ${seen[0].length}`,
      );
      await sleep(1500);
      const p1WhilePaused = seen[1].length;
      // kafkajs semantics: a batch of partition 1 fetched before pause() may already be delivered.
      observed.pause = `partition 1 records delivered while paused (after the first batch): ${p1WhilePaused}`;
      consumer.resume([{ topic, partitions: [1] }]);
      await waitFor(
        () => seen[1].length >= 20,
        () => `p1 after resume ${seen[1].length}`,
      );
      observed.resume = `partition 1 offsets delivered: ${seen[1].join(',')}`;
      observed.batches = `batch sizes ${batchSizes.join(',')}`;
      assert(
        batchSizes.some((b) => Number(b.split(':')[1]) > 1),
        'no batch larger than one record',
      );

      consumer.seek({ topic, partition: 0, offset: '5' });
      await waitFor(
        () => seen[0].length >= 35,
        () => `after seek p0 ${seen[0].slice(18).join(',')}`,
      );
      observed.seek = `partition 0 after seek to 5: ${seen[0].slice(20, 23).join(',')}…`;
      assert(seen[0][20] === 5, `seek delivered ${seen[0][20]}`);

      await consumer.commitOffsets([{ topic, partition: 0, offset: '12' }]);
      const t = await tx.transaction();
      await t.send({ topic: outTopic, messages: [{ value: 'transformed' }] });
      await t.sendOffsets({ consumer, topics: [{ topic, partitions: [{ partition: 1, offset: '20' }] }] });
      await t.commit();
      const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
      const byPartition = Object.fromEntries(committed[0].partitions.map((x) => [x.partition, x.offset]));
      observed.commits = `committed offsets ${JSON.stringify(byPartition)}`;
      assert(byPartition[0] === '12' && byPartition[1] === '20', observed.commits);
      observed.assignments = assignments;
      assert(
        assignments.some((a) => a.startsWith('assign') && a.includes(`${topic}/0`) && a.includes(`${topic}/1`)),
        'no assignment of both partitions',
      );
    } finally {
      await consumer.disconnect();
      await tx.disconnect();
    }
    const out = await read(outTopic, { done: (s) => s.length >= 1 });
    assert(out.length === 1 && out[0].value === 'transformed', `out topic ${JSON.stringify(out)}`);
    observed.sendOffsets = 'transactional record visible to read_committed, group offset committed with it';
    return observed;
  },
};

console.log(
  `@confluentinc/kafka-javascript ${require('@confluentinc/kafka-javascript/package.json').version}, librdkafka ${librdkafkaVersion}, Node ${process.version}`,
);
runCases('confluent', cases).then(
  (r) => process.exit(Object.values(r).every((x) => x.pass) ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
