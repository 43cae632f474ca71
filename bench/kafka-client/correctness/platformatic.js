#!/usr/bin/env node
/**
 * Correctness of @platformatic/kafka 2.x (pure JS), unpatched and used as documented (none of the
 * runtime's workarounds), against the local broker: the cases the runtime's KafkaClient relies on.
 *   node bench/kafka-client/correctness/platformatic.js [a b c d e f]
 * Evidence for choosing the client; not a test of Tideway code.
 */
'use strict';
const path = require('node:path');
const { BROKERS, unique, sleep, waitFor, keyPartition, runCases, onlyCommittedVisible, assert } = require('./common');

let lib;
const base = { clientId: 'kc-platformatic', bootstrapBrokers: BROKERS };
const producer = (options = {}) => new lib.Producer({ ...base, idempotent: true, acks: lib.ProduceAcks.ALL, ...options });
const rec = (topic, value, partition = 0) => ({ topic, partition, value: Buffer.from(value) });

async function withAdmin(fn) {
  const admin = new lib.Admin(base);
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

async function createTopic(topic, partitions = 1) {
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    await waitFor(
      async () => (await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => null))?.topics?.get(topic)?.partitionsCount === partitions,
      () => `metadata of ${topic}`,
    );
  });
}

/** Reads a topic with a fresh group until `done(messages)`; `startAt` starts partition 0 there. */
async function read(topic, { readCommitted = true, startAt, done }) {
  const consumer = new lib.Consumer({ ...base, groupId: unique('g'), maxWaitTime: 100 });
  const seen = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      autocommit: false,
      isolationLevel: readCommitted ? lib.FetchIsolationLevels.READ_COMMITTED : lib.FetchIsolationLevels.READ_UNCOMMITTED,
      ...(startAt === undefined ? { mode: 'earliest' } : { mode: 'manual', offsets: [{ topic, partition: 0, offset: BigInt(startAt) }] }),
    });
    stream.on('data', (m) => seen.push({ partition: m.partition, offset: String(m.offset), value: m.value?.toString() }));
    await waitFor(
      () => done(seen),
      () => `read ${JSON.stringify(seen)}`,
    );
    await sleep(1000); // anything after the expected records would show up now
    await stream.close();
    return seen;
  } finally {
    await consumer.close(true);
  }
}

const cases = {
  async 'a read_committed inside nested aborted transactions'() {
    const topic = unique('rc');
    await createTopic(topic);
    const a = producer({ transactionalId: `${topic}-a` });
    const b = producer({ transactionalId: `${topic}-b` });
    const plain = producer();
    const ta = await a.beginTransaction();
    const tb = await b.beginTransaction();
    await ta.send({ messages: [rec(topic, 'a1')] });
    await tb.send({ messages: [rec(topic, 'b1')] });
    await tb.send({ messages: [rec(topic, 'b2')] });
    await ta.send({ messages: [rec(topic, 'a2')] });
    await ta.abort();
    await tb.abort();
    await plain.send({ messages: [rec(topic, 'committed')] });
    for (const p of [a, b, plain]) await p.close();
    return onlyCommittedVisible(read, topic);
  },

  async 'b zombie transactional producer fenced'() {
    const topic = unique('fence');
    await createTopic(topic);
    const txId = `${topic}-tx`;
    const zombie = producer({ transactionalId: txId });
    const tz = await zombie.beginTransaction();
    await tz.send({ messages: [rec(topic, 'zombie')] });
    const owner = producer({ transactionalId: txId });
    let ownerError;
    try {
      const to = await owner.beginTransaction();
      await to.send({ messages: [rec(topic, 'owner')] });
      await to.commit();
    } catch (err) {
      ownerError = `${err.name} ${err.code ?? ''} canRetry=${err.canRetry}: ${err.message} ${(err.errors ?? []).map((e) => e.message).join('; ')}`;
    }
    let zombieError;
    try {
      await tz.commit();
    } catch (err) {
      zombieError = `${err.name} canRetry=${err.canRetry}: ${err.message} ${(err.errors ?? []).map((e) => e.message).join('; ')}`;
    }
    await owner.close().catch(() => undefined);
    await zombie.close().catch(() => undefined);
    const seen = await read(topic, { done: () => true });
    const observed = { ownerInitAndCommit: ownerError ?? 'ok', zombieCommit: zombieError ?? 'committed (not fenced)', visible: seen.map((m) => m.value) };
    assert(!ownerError && zombieError && seen.length === 1 && seen[0].value === 'owner', JSON.stringify(observed));
    return observed;
  },

  async 'c 20 concurrent idempotent sends to one partition'() {
    const topic = unique('idem');
    await createTopic(topic);
    const p = producer();
    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => p.send({ messages: [rec(topic, `v${i}`)] })));
    await p.close();
    const rejected = settled.filter((s) => s.status === 'rejected').length;
    const seen = await read(topic, { readCommitted: false, done: () => true });
    const values = new Set(seen.map((m) => m.value));
    const observed = `${20 - rejected} sends resolved, ${rejected} rejected; ${seen.length} records arrived, ${values.size} distinct`;
    assert(seen.length === 20 && values.size === 20 && rejected === 0, observed);
    return observed;
  },

  async 'd Java-compatible key partitioning'() {
    const partitions = 7;
    const topic = unique('part');
    await createTopic(topic, partitions);
    const keys = Array.from({ length: 300 }, (_, i) => `policy-${i * 7919}`);
    const out = {};
    for (const [label, options] of [
      ['compatibilityPartitioner', { partitioner: lib.compatibilityPartitioner }],
      ['default partitioner', {}],
    ]) {
      const p = producer(options);
      const results = [];
      for (const key of keys) results.push(await p.send({ messages: [{ topic, key: Buffer.from(key), value: Buffer.from('x') }] }));
      await p.close();
      const mismatches = keys.filter((key, i) => results[i].offsets[0].partition !== keyPartition(key, partitions));
      out[label] = `${mismatches.length}/${keys.length} keys on another partition than keyPartition()`;
    }
    assert(out.compatibilityPartitioner.startsWith('0/'), JSON.stringify(out));
    return out;
  },

  async 'e new topic: create, produce, consume with a fresh group, 20 times'() {
    const p = producer();
    const errors = [];
    const topics = [];
    try {
      for (let i = 0; i < 20; i++) {
        const topic = unique('new');
        topics.push(topic);
        await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }));
        try {
          await p.send({ messages: [rec(topic, `n${i}`)] });
        } catch (err) {
          errors.push(`send ${i}: ${err.name} canRetry=${err.canRetry} ${err.message} ${(err.errors ?? []).map((e) => e.message).join('; ')}`);
          await p.send({ messages: [rec(topic, `n${i}`)] }).catch((e) => errors.push(`retry ${i}: ${e.message}`));
        }
        const seen = await read(topic, { readCommitted: true, done: (s) => s.length >= 1 }).catch((err) => {
          errors.push(`consume ${i}: ${err.name} canRetry=${err.canRetry} ${err.message} ${(err.errors ?? []).map((e) => e.message).join('; ')}`);
          return [];
        });
        if (seen.length !== 1 && !errors.some((e) => e.startsWith(`consume ${i}`))) errors.push(`consume ${i}: saw ${seen.length}`);
      }
    } finally {
      await p.close();
      await withAdmin((admin) => admin.deleteTopics({ topics })).catch(() => undefined);
    }
    assert(errors.length === 0, errors.join(' | '));
    return '20/20 created, produced to at once and consumed, no error surfaced';
  },

  async 'f group: assignment events, explicit commit, sendOffsets; per-partition pause/resume, seek, batches'() {
    const topic = unique('grp');
    const outTopic = `${topic}-out`;
    await createTopic(topic, 2);
    await createTopic(outTopic, 1);
    const groupId = unique('grp');
    const p = producer();
    for (const partition of [0, 1]) await p.send({ messages: Array.from({ length: 20 }, (_, i) => rec(topic, `p${partition}-${i}`, partition)) });
    await p.close();

    const observed = {};
    const consumer = new lib.Consumer({ ...base, groupId, maxWaitTime: 100 });
    const joins = [];
    consumer.on('consumer:group:join', (e) => joins.push((e.assignments ?? []).map((a) => `${a.topic}/${a.partitions.join('+')}`).join(',')));
    const tx = producer({ transactionalId: `${topic}-tx` });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const seen = [];
      stream.on('data', (m) => seen.push(m));
      await waitFor(
        () => seen.length >= 40,
        () => `seen ${seen.length}`,
      );
      observed.assignments = joins;
      assert(
        joins.some((j) => j.includes(`${topic}/0+1`)),
        `join events ${JSON.stringify(joins)}`,
      );
      observed.api = {
        batch: 'no batch API: a stream of single messages',
        pausePartition: `MessagesStream.pause/resume take no partition (whole stream); typeof stream.pausePartition: ${typeof stream.pausePartition}`,
        seek: `no seek; typeof stream.seek: ${typeof stream.seek} (close the stream and consume again with mode "manual" and offsets)`,
      };
      await consumer.commit({ offsets: [{ topic, partition: 0, offset: 12n, leaderEpoch: seen[0].leaderEpoch }] });
      const t = await tx.beginTransaction();
      await t.send({ messages: [rec(outTopic, 'transformed')] });
      await t.addConsumer(consumer);
      await t.addOffset(seen.find((m) => m.partition === 1 && m.offset === 19n)); // commits 19 + 1
      await t.commit();
      await stream.close();
      // The transaction's offset is visible once the markers are written: poll (generously) for it.
      let committed;
      await waitFor(
        async () => {
          committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] });
          return committed.get(topic)[0] === 12n && committed.get(topic)[1] === 20n;
        },
        () => `committed offsets ${[...committed.get(topic)].map(String).join(',')}`,
        20_000,
      ).catch((err) => (observed.commitError = err.message));
      observed.commits = `committed offsets ${[...committed.get(topic)].map(String).join(',')}`;
    } finally {
      await consumer.close(true);
      await tx.close();
    }
    const out = await read(outTopic, { done: (s) => s.length >= 1 });
    assert(out.length === 1 && out[0].value === 'transformed', `out topic ${JSON.stringify(out)}`);
    observed.sendOffsets = 'transactional record visible to read_committed, group offset committed with it';
    assert(false, `API gaps: ${JSON.stringify(observed)}`);
  },
};

(async () => {
  lib = await import('@platformatic/kafka');
  const version = require(path.join(__dirname, '../node_modules/@platformatic/kafka/package.json')).version;
  console.log(`@platformatic/kafka ${version}, Node ${process.version}`);
  const r = await runCases('platformatic', cases);
  process.exit(Object.values(r).every((x) => x.pass) ? 0 : 1);
})().catch((err) => {
  console.error(err);
  process.exit(2);
});
