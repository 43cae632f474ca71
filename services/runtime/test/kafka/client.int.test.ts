/**
 * The runtime's Kafka interface against the real broker, with each client (KAFKA_CLIENT):
 * topics, acks=all produce with key-stable partitioning (the same partition whichever library
 * produced the key), tombstones and headers, group consumption with manual commits, and
 * transactions (committed records visible to read_committed consumers, aborted ones never,
 * offsets committed with the transaction), each message's own offset in the delivery reports,
 * offsets for a timestamp, and topic configs.
 */
import pino from 'pino';
import { canRetry } from '../../src/errors';
import { createKafkaClient, type KafkaClientChoice } from '../../src/kafka/client';
import { keyPartition } from '../../src/kafka/key-partition';
import type { Consumer, IncomingMessage, KafkaClient, OutgoingMessage } from '../../src/kafka/types';
import { uniqueName, uniqueSuffix } from '../../../../test-support/stack';

const logger = pino({ level: 'silent' });
const clientWith = (choice: KafkaClientChoice): KafkaClient =>
  createKafkaClient(
    {
      kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      kafkaClientId: 'runtime-test',
      kafkaSaslMechanism: 'none',
      kafkaTls: false,
      kafkaConnectionTimeoutMs: 10_000,
      ...choice,
    },
    logger,
  );
const CHOICES: Array<[string, KafkaClientChoice]> = [
  ['confluent', { kafkaClient: 'confluent' }],
  ['kafkajs', { kafkaClient: 'kafkajs' }],
];
let client: KafkaClient;

async function consumeAll(
  groupId: string,
  topic: string,
  expected: number,
  readCommitted = true,
): Promise<{ consumer: Consumer; messages: IncomingMessage[] }> {
  const consumer = client.consumer({ groupId, readCommitted, maxWaitTimeMs: 100 });
  await consumer.connect();
  await consumer.subscribe([topic]);
  const messages: IncomingMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${messages.length}/${expected} messages`)), 30_000);
    void consumer.run(async (batch) => {
      messages.push(...batch.messages);
      if (messages.length >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { consumer, messages };
}

describe.each(CHOICES)('KafkaClient: %s', (_label, choice) => {
  let admin: ReturnType<KafkaClient['admin']>;
  const created: string[] = [];

  beforeAll(async () => {
    client = clientWith(choice);
    admin = client.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics(created).catch(() => undefined);
    await admin.disconnect();
  });

  /** A topic of its own (deleted after the file) holding `records`, written by a producer of its own. */
  async function topicWith(prefix: string, partitions: number, records: (topic: string) => OutgoingMessage[]): Promise<string> {
    const topic = `${prefix}-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions }]);
    const producer = client.producer();
    await producer.connect();
    await producer.send(records(topic));
    await producer.disconnect();
    return topic;
  }

  it('creates missing topics only once', async () => {
    const topic = `rt-topics-${uniqueSuffix()}`;
    created.push(topic);
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual([topic]);
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual([]);
    expect(await admin.partitionCount(topic)).toBe(3);
  });

  it('produces with acks=all, keeps one key on one partition, and commits consumer offsets', async () => {
    const topic = `rt-produce-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const producer = client.producer();
    await producer.connect();
    const keys = ['policy-1', 'policy-2', 'policy-3', 'policy-4'];
    for (let round = 0; round < 5; round++) {
      const reports = await producer.send(keys.map((k) => ({ topic, key: k, value: JSON.stringify({ k, round }), headers: { round: String(round) } })));
      expect(reports.length).toBeGreaterThan(0);
    }
    await producer.disconnect();

    const groupId = `rt-group-${uniqueSuffix()}`;
    const { consumer, messages } = await consumeAll(groupId, topic, 20);
    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of messages) {
      const k = m.key!.toString();
      if (!partitionOfKey.has(k)) partitionOfKey.set(k, new Set());
      partitionOfKey.get(k)!.add(m.partition);
    }
    for (const k of keys) expect(partitionOfKey.get(k)!.size).toBe(1);
    // keyPartition (for explicitly addressed records) agrees with keyed sends.
    for (const k of keys) expect([...partitionOfKey.get(k)!]).toEqual([keyPartition(k, 3)]);
    // Per key, rounds arrive in order.
    for (const k of keys) {
      const rounds = messages.filter((m) => m.key!.toString() === k).map((m) => JSON.parse(m.value!.toString()).round);
      expect(rounds).toEqual([0, 1, 2, 3, 4]);
    }
    expect(messages[0].headers.round).toBeInstanceOf(Buffer);
    // Whichever library produces, a key lands where another library (and the Java client) puts it.
    const other = clientWith({ kafkaClient: choice.kafkaClient === 'kafkajs' ? 'confluent' : 'kafkajs' }).producer();
    await other.connect();
    const reports = await other.send(keys.map((k) => ({ topic, key: k, value: null })));
    await other.disconnect();
    for (const k of keys) {
      const r = reports.find((x) => x.partition === [...partitionOfKey.get(k)!][0]);
      expect(r).toBeDefined();
    }
    const { consumer: tombstoneReader, messages: all } = await consumeAll(`rt-group-${uniqueSuffix()}`, topic, 24);
    await tombstoneReader.disconnect();
    for (const k of keys) {
      const ofKey = all.filter((m) => m.key!.toString() === k);
      expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1);
      expect(ofKey[ofKey.length - 1].value).toBeNull();
    }

    const ends = await admin.endOffsets(topic);
    await consumer.commit(ends);
    const committed = await admin.committedOffsets(groupId, topic);
    expect(committed.sort((a, b) => a.partition - b.partition)).toEqual(ends.sort((a, b) => a.partition - b.partition));
    await consumer.disconnect();
  });

  it('keeps every record of concurrent sends to one partition (idempotent sequences never collide)', async () => {
    const topic = `rt-concurrent-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer();
    await producer.connect();
    // Same-sized sends in flight together: identical sequence numbers would make the broker drop all but one as duplicates.
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send([{ topic, partition: 0, key: 'k', value: `v${i}` }])));
    await producer.disconnect();
    const { consumer, messages } = await consumeAll(`rt-concurrent-${uniqueSuffix()}`, topic, 20);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.disconnect();
    expect(messages.map((m) => m.value!.toString()).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).sort());
    expect(await admin.endOffsets(topic)).toEqual([{ topic, partition: 0, offset: '20' }]);
  });

  it('keeps string keys and values with NUL characters whole', async () => {
    const topic = `rt-nul-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer();
    await producer.connect();
    await producer.send([{ topic, key: '\u0000restore', value: 'a\u0000b' }]);
    await producer.disconnect();
    const { consumer, messages } = await consumeAll(`rt-nul-${uniqueSuffix()}`, topic, 1);
    await consumer.disconnect();
    expect(messages.map((m) => [m.key?.toString(), m.value?.toString()])).toEqual([['\u0000restore', 'a\u0000b']]);
  });

  it('does not deliver a batch again when its own partition was paused while it was handled', async () => {
    const topic = await topicWith('rt-pause', 1, (t) => Array.from({ length: 10 }, (_, i) => ({ topic: t, partition: 0, key: 'k', value: `v${i}` })));
    const consumer = client.consumer({ groupId: `rt-pause-${uniqueSuffix()}`, maxWaitTimeMs: 100 });
    await consumer.connect();
    await consumer.subscribe([topic]);
    const offsets: string[] = [];
    let pausedOnce = false;
    await consumer.run(async (batch) => {
      offsets.push(...batch.messages.map((m) => m.offset));
      if (!pausedOnce) {
        pausedOnce = true;
        consumer.pause([{ topic, partition: 0 }]);
        setTimeout(() => consumer.resume([{ topic, partition: 0 }]), 500);
      }
    });
    const deadline = Date.now() + 30_000;
    while (offsets.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Anything delivered twice would show up now.
    await new Promise((r) => setTimeout(r, 1_500));
    await consumer.disconnect();
    expect(offsets).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  }, 60_000);

  it('has the offsets at the group coordinator once commit() resolves', async () => {
    const topic = await topicWith('rt-commit', 2, (t) => Array.from({ length: 40 }, (_, i) => ({ topic: t, partition: i % 2, key: 'k', value: `v${i}` })));
    const groupId = `rt-commit-${uniqueSuffix()}`;
    const { consumer } = await consumeAll(groupId, topic, 40);
    // Read back at once, by another client: every round sees what it committed.
    const seen: string[] = [];
    for (let round = 0; round <= 20; round++) {
      await consumer.commit([
        { topic, partition: 0, offset: String(round) },
        { topic, partition: 1, offset: String(20 - round) },
      ]);
      const committed = await admin.committedOffsets(groupId, topic);
      seen.push(
        committed
          .sort((a, b) => a.partition - b.partition)
          .map((c) => c.offset)
          .join('/'),
      );
    }
    await consumer.disconnect();
    expect(seen).toEqual(Array.from({ length: 21 }, (_, r) => `${r}/${20 - r}`));
  }, 120_000);

  it('starts where a seek made on assignment points, not at the committed offset', async () => {
    const topic = await topicWith('rt-seek', 1, (t) => Array.from({ length: 10 }, (_, i) => ({ topic: t, partition: 0, key: 'k', value: `v${i}` })));
    const groupId = `rt-seek-${uniqueSuffix()}`;
    // The group has committed 8: reading would start there without the seek.
    const first = client.consumer({ groupId, maxWaitTimeMs: 100 });
    await first.connect();
    await first.subscribe([topic]);
    let committed = false;
    await first.run(async (batch) => {
      if (batch.messages.some((m) => m.offset === '9')) {
        await first.commit([{ topic, partition: 0, offset: '8' }]);
        committed = true;
      }
    });
    const committedBy = Date.now() + 30_000;
    while (!committed && Date.now() < committedBy) await new Promise((r) => setTimeout(r, 100));
    await first.disconnect();
    expect(committed).toBe(true);
    for (let round = 0; round < 3; round++) {
      const consumer = client.consumer({ groupId, maxWaitTimeMs: 100 });
      await consumer.connect();
      await consumer.subscribe([topic]);
      consumer.onAssignment(() => consumer.seek({ topic, partition: 0, offset: '3' }));
      const offsets: string[] = [];
      await consumer.run(async (batch) => {
        if (!batch.isStale()) offsets.push(...batch.messages.map((m) => m.offset));
      });
      const deadline = Date.now() + 30_000;
      while (!offsets.includes('9') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await consumer.disconnect();
      expect({ round, first: offsets[0] }).toEqual({ round, first: '3' });
    }
  }, 120_000);

  it('reports the end of a partition whose last records are transaction markers (onBatchEnd)', async () => {
    const topic = `rt-markers-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer({ transactionalId: `rt-markers-${uniqueSuffix()}` });
    await producer.connect();
    // Offsets: 0 a record, 1 its commit marker, 2 an aborted record, 3 its abort marker.
    const t = await producer.transaction();
    await t.send([{ topic, partition: 0, key: 'k', value: 'committed' }]);
    await t.commit();
    const aborted = await producer.transaction();
    await aborted.send([{ topic, partition: 0, key: 'k', value: 'aborted' }]);
    await aborted.abort();
    await producer.disconnect();
    // The markers are written by the transaction coordinator after commit()/abort() return: wait for
    // the partition's end to pass the abort marker before reading.
    let end = '0';
    for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      [{ offset: end }] = await admin.endOffsets(topic);
      if (end === '4') break;
    }
    expect(end).toBe('4');
    const consumer = client.consumer({ groupId: `rt-markers-${uniqueSuffix()}`, maxWaitTimeMs: 100 });
    const positions: string[] = [];
    consumer.onBatchEnd((p) => positions.push(`${p.next}/${p.highWatermark}`));
    await consumer.connect();
    await consumer.subscribe([topic]);
    await consumer.run(async () => undefined);
    const deadline = Date.now() + 30_000;
    while (!positions.includes(`${end}/${end}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    expect(positions).toContain(`${end}/${end}`);
  }, 60_000);

  it('fences a previous producer with the same transactional id', async () => {
    const topic = `rt-fence-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const id = `rt-fence-${uniqueSuffix()}`;
    const zombie = client.producer({ transactionalId: id });
    await zombie.connect();
    const open = await zombie.transaction();
    await open.send([{ topic, key: 'z', value: 'zombie' }]);
    const owner = client.producer({ transactionalId: id });
    await owner.connect();
    await (await owner.transaction()).abort();
    const fenced: unknown = await open.commit().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(fenced).toBeDefined();
    // A fenced producer stops the service rather than retrying.
    expect(canRetry(fenced)).toBe(false);
    const t = await owner.transaction();
    await t.send([{ topic, key: 'o', value: 'owner' }]);
    await t.commit();
    await owner.disconnect();
    await zombie.disconnect().catch(() => undefined);
    const { consumer, messages } = await consumeAll(`rt-fence-${uniqueSuffix()}`, topic, 1);
    await new Promise((r) => setTimeout(r, 500));
    await consumer.disconnect();
    expect(messages.map((m) => m.value!.toString())).toEqual(['owner']);
  });

  it('makes committed transactions visible and aborted ones invisible to read_committed consumers', async () => {
    const topic = `rt-txn-${uniqueSuffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer({ transactionalId: `rt-txn-${uniqueSuffix()}` });
    await producer.connect();

    // Empty transactions end without error (the first one is how a new owner fences the previous one).
    await (await producer.transaction()).abort();
    await (await producer.transaction()).commit();

    const aborted = await producer.transaction();
    await aborted.send([{ topic, key: 'a', value: 'aborted' }]);
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send([{ topic, key: 'c', value: 'committed' }]);
    const group = `rt-txn-group-${uniqueSuffix()}`;
    // Offsets in a transaction belong to a consumer of the group (librdkafka needs its group metadata).
    const member = client.consumer({ groupId: group });
    await member.connect();
    await committed.sendOffsets(group, [{ topic, partition: 0, offset: '1' }]);
    await committed.commit();
    await producer.disconnect();
    await member.disconnect();

    const { consumer, messages } = await consumeAll(`rt-reader-${uniqueSuffix()}`, topic, 1);
    // Give a possible stray aborted record a moment to show up before asserting.
    await new Promise((r) => setTimeout(r, 500));
    expect(messages.map((m) => m.value!.toString())).toEqual(['committed']);
    await consumer.disconnect();
    expect(await admin.committedOffsets(group, topic)).toEqual([{ topic, partition: 0, offset: '1' }]);
  });
  it("reports each message's own partition and offset, also with other sends to the partition in flight", async () => {
    const topic = uniqueName('rt-reports');
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const producer = client.producer();
    await producer.connect();
    // Several sends at once, each of several records per partition, explicit and by key, and a second topic.
    const other = uniqueName('rt-reports-other');
    created.push(other);
    await admin.ensureTopics([{ topic: other, partitions: 1 }]);
    const sends = Array.from({ length: 6 }, (_, s) => {
      const messages: OutgoingMessage[] = [];
      for (let i = 0; i < 12; i++) {
        const value = `s${s}-m${i}`;
        if (i % 4 === 3) messages.push({ topic: other, key: null, value });
        else if (i % 2 === 0) messages.push({ topic, partition: i % 3, key: null, value });
        else messages.push({ topic, key: `key-${s}-${i}`, value });
      }
      return { messages, reports: producer.send(messages) };
    });
    const sent = await Promise.all(sends.map(async (x) => ({ messages: x.messages, reports: await x.reports })));
    await producer.disconnect();

    const at = new Map<string, string>();
    for (const { messages, reports } of sent) {
      expect(reports).toHaveLength(messages.length);
      reports.forEach((r, i) => {
        expect(r.topic).toBe(messages[i].topic);
        if (messages[i].partition !== undefined) expect(r.partition).toBe(messages[i].partition);
        if (messages[i].topic === topic && typeof messages[i].key === 'string') expect(r.partition).toBe(keyPartition(messages[i].key as string, 3));
        at.set(`${r.topic}:${r.partition}:${r.offset}`, String(messages[i].value));
      });
    }
    expect(at.size).toBe(6 * 12);
    for (const t of [topic, other]) {
      const expected = [...at.keys()].filter((k) => k.startsWith(`${t}:`)).length;
      const { consumer, messages } = await consumeAll(uniqueName('rt-reports-reader'), t, expected, false);
      await consumer.disconnect();
      for (const m of messages) expect(at.get(`${m.topic}:${m.partition}:${m.offset}`)).toBe(m.value!.toString());
    }
  });

  it('finds per partition the first offset at or after a timestamp, or the end where none is', async () => {
    const base = Date.now() - 60_000;
    const topic = await topicWith('rt-times', 2, (t) => [
      { topic: t, partition: 0, key: 'a', value: '0', timestamp: base + 1_000 },
      { topic: t, partition: 0, key: 'a', value: '1', timestamp: base + 2_000 },
      { topic: t, partition: 0, key: 'a', value: '2', timestamp: base + 3_000 },
      { topic: t, partition: 1, key: 'b', value: '0', timestamp: base + 5_000 },
    ]);
    const at = async (ms: number) => (await admin.offsetsForTimestamp(topic, ms)).sort((a, b) => a.partition - b.partition).map((o) => o.offset);
    expect(await at(base)).toEqual(['0', '0']);
    expect(await at(base + 2_000)).toEqual(['1', '0']);
    expect(await at(base + 2_500)).toEqual(['2', '0']);
    expect(await at(base + 5_000)).toEqual(['3', '0']);
    expect(await at(base + 6_000)).toEqual(['3', '1']);
  });

  it('reads and changes topic configs, leaving the other overrides as they are', async () => {
    const topic = uniqueName('rt-configs');
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1, configs: { 'retention.ms': '3600000', 'max.message.bytes': '2000000' } }]);
    expect(await admin.topicConfigs(topic, ['retention.ms'])).toEqual({ 'retention.ms': '3600000' });
    const all = await admin.topicConfigs(topic);
    expect(all['max.message.bytes']).toBe('2000000');
    // A broker default in force is part of the effective configuration.
    expect(all['cleanup.policy']).toBe('delete');

    await admin.alterTopicConfigs(topic, { 'retention.ms': '7200000' });
    // A describe answered by another broker than the one that took the change may lag a moment.
    await eventually(async () =>
      expect(await admin.topicConfigs(topic, ['retention.ms', 'max.message.bytes'])).toEqual({ 'retention.ms': '7200000', 'max.message.bytes': '2000000' }),
    );
    await admin.alterTopicConfigs(topic, { 'max.message.bytes': '3000000' });
    await eventually(async () =>
      expect(await admin.topicConfigs(topic, ['retention.ms', 'max.message.bytes'])).toEqual({ 'retention.ms': '7200000', 'max.message.bytes': '3000000' }),
    );
    await expect(admin.alterTopicConfigs(topic, { 'retention.ms': 'not-a-number' })).rejects.toThrow();
    expect(await admin.topicConfigs(topic, ['retention.ms'])).toEqual({ 'retention.ms': '7200000' });
  });
});

/** Retries `check` until it passes, for state that settles on the broker (a generous bound, not a timing assertion). */
async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
