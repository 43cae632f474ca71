/**
 * The groupless partition reader against the real broker: exact offsets, its bounds, the ends of a
 * partition (empty past the end, the log start after records were deleted), many concurrent reads
 * across partitions, and read_committed over aborted transactions — with either client, since both
 * read with Fetch requests; batches kafkajs cannot decode are read through librdkafka.
 */
import pino from 'pino';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaClient, type KafkaClientName } from '../../src/kafka/client';
import type { Admin, KafkaClient, OutgoingMessage, PartitionReader } from '../../src/kafka/types';
import { seededRandom } from '../../../../test-support/seeded-random';
import { uniqueName } from '../../../../test-support/stack';

jest.setTimeout(120_000);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const clientFor = (kafkaClient: KafkaClientName): KafkaClient =>
  createKafkaClient(
    { kafkaClient, kafkaBrokers: brokers, kafkaClientId: 'runtime-test', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10_000 },
    pino({ level: 'silent' }),
  );

const value = (partition: number, i: number, size = 0) => `p${partition}-r${i}`.padEnd(size, '.');

describe.each<KafkaClientName>(['confluent', 'kafkajs'])('partition reader (KAFKA_CLIENT=%s)', (clientName) => {
  const client = clientFor(clientName);
  let admin: Admin;
  let reader: PartitionReader;
  const created: string[] = [];

  beforeAll(async () => {
    admin = client.admin();
    await admin.connect();
    reader = client.partitionReader({ readCommitted: false });
  });
  afterAll(async () => {
    await reader.close();
    await admin.deleteTopics(created).catch(() => undefined); // the topics' names are unique: a leftover harms no other test
    await admin.disconnect();
  });

  /** A topic of its own with `perPartition` records `value(p, i)` in each partition, at offsets 0.. in order. */
  async function topicWith(prefix: string, partitions: number, perPartition: number, size = 0): Promise<string> {
    const topic = uniqueName(prefix);
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions }]);
    const producer = client.producer();
    await producer.connect();
    const messages: OutgoingMessage[] = [];
    for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) messages.push({ topic, partition: p, key: `k${i}`, value: value(p, i, size) });
    await producer.send(messages);
    await producer.disconnect();
    return topic;
  }

  it('reads at exact offsets, within maxRecords and maxBytes, and says where to go on', async () => {
    const topic = await topicWith('rt-reader-exact', 3, 50, 100);
    const r = await reader.read({ topic, partition: 1, offset: '10', maxRecords: 5 });
    expect(r.messages.map((m) => [m.partition, m.offset, m.value!.toString()])).toEqual([10, 11, 12, 13, 14].map((i) => [1, String(i), value(1, i, 100)]));
    expect(r.messages[0].key!.toString()).toBe('k10');
    expect(r).toMatchObject({ nextOffset: '15', highWatermark: '50', logStartOffset: '0' });

    // Going on where the last read ended, then back to an earlier offset of the same partition, then another partition.
    const next = await reader.read({ topic, partition: 1, offset: r.nextOffset, maxRecords: 3 });
    expect(next.messages.map((m) => m.offset)).toEqual(['15', '16', '17']);
    const back = await reader.read({ topic, partition: 1, offset: '2', maxRecords: 2 });
    expect(back.messages.map((m) => m.value!.toString())).toEqual([value(1, 2, 100), value(1, 3, 100)]);
    const other = await reader.read({ topic, partition: 2, offset: '0', maxRecords: 100 });
    expect(other.messages.map((m) => m.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => value(2, i, 100)));
    expect(other.nextOffset).toBe('50');

    // Keys and values count against maxBytes: 'k20' + 100 bytes each, so 3 fit in 350; a larger record comes alone.
    const bounded = await reader.read({ topic, partition: 0, offset: '20', maxRecords: 10, maxBytes: 350 });
    expect(bounded.messages.map((m) => m.offset)).toEqual(['20', '21', '22']);
    expect(bounded.nextOffset).toBe('23');
    const alone = await reader.read({ topic, partition: 0, offset: '23', maxRecords: 10, maxBytes: 10 });
    expect(alone.messages.map((m) => m.offset)).toEqual(['23']);
    const rest = await reader.read({ topic, partition: 0, offset: '24', maxRecords: 1_000 });
    expect(rest.messages.map((m) => m.offset)).toEqual(Array.from({ length: 26 }, (_, i) => String(24 + i)));
  });

  it('answers no records at or past the end', async () => {
    const topic = await topicWith('rt-reader-end', 1, 5);
    const past = await reader.read({ topic, partition: 0, offset: '9', maxRecords: 10 });
    expect(past).toMatchObject({ messages: [], highWatermark: '5', nextOffset: '9' });
    const atEnd = await reader.read({ topic, partition: 0, offset: '5', maxRecords: 10, maxWaitMs: 100 });
    expect(atEnd).toMatchObject({ messages: [], highWatermark: '5', nextOffset: '5' });
    // The records before it are still read whole afterwards.
    expect((await reader.read({ topic, partition: 0, offset: '0', maxRecords: 10 })).messages.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('going on from the end, sees the records appended since (no wait asked)', async () => {
    const topic = await topicWith('rt-reader-tail', 1, 3);
    const first = await reader.read({ topic, partition: 0, offset: '0', maxRecords: 10, maxWaitMs: 0 });
    expect(first.messages.map((m) => m.offset)).toEqual(['0', '1', '2']);
    const atEnd = await reader.read({ topic, partition: 0, offset: first.nextOffset, maxRecords: 10, maxWaitMs: 0 });
    expect(atEnd).toMatchObject({ messages: [], nextOffset: '3' });
    const producer = client.producer();
    await producer.connect();
    await producer.send([3, 4].map((i) => ({ topic, partition: 0, key: `k${i}`, value: value(0, i) })));
    await producer.disconnect();
    // Acknowledged (acks=all), so below the high watermark now: the next read from where the last ended returns them.
    const appended = await reader.read({ topic, partition: 0, offset: atEnd.nextOffset, maxRecords: 10, maxWaitMs: 0 });
    expect(appended.messages.map((m) => m.value!.toString())).toEqual([value(0, 3), value(0, 4)]);
    expect(appended).toMatchObject({ nextOffset: '5', highWatermark: '5' });
  });

  it('starts at the log start when asked for an offset deleted already', async () => {
    const topic = await topicWith('rt-reader-trimmed', 1, 30);
    const kafka = new Kafka({ clientId: 'runtime-test', brokers, logLevel: logLevel.NOTHING });
    const raw = kafka.admin();
    await raw.connect();
    try {
      // kafkajs finds the partition's leader in metadata it has loaded.
      await raw.fetchTopicMetadata({ topics: [topic] });
      await raw.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '20' }] });
    } finally {
      await raw.disconnect();
    }
    const r = await reader.read({ topic, partition: 0, offset: '5', maxRecords: 4 });
    expect(r.messages.map((m) => m.offset)).toEqual(['20', '21', '22', '23']);
    expect(r).toMatchObject({ nextOffset: '24', highWatermark: '30', logStartOffset: '20' });
  });

  it('serves 200 concurrent reads across 10 partitions with exactly the right records', async () => {
    const topic = await topicWith('rt-reader-many', 10, 100, 64);
    const random = seededRandom(20261203);
    const reads = Array.from({ length: 200 }, () => ({ topic, partition: random.int(10), offset: String(random.int(110)), maxRecords: 1 + random.int(40) }));
    const results = await Promise.all(reads.map((r) => reader.read({ ...r, maxWaitMs: 100 })));
    results.forEach((res, n) => {
      const { partition, offset, maxRecords } = reads[n];
      const from = Number(offset);
      const count = Math.max(0, Math.min(maxRecords, 100 - from));
      const expected = Array.from({ length: count }, (_, i) => [String(from + i), value(partition, from + i, 64)]);
      expect([n, res.messages.map((m) => [m.offset, m.value!.toString()])]).toEqual([n, expected]);
      expect(res.messages.every((m) => m.topic === topic && m.partition === partition)).toBe(true);
      expect(res.nextOffset).toBe(String(count > 0 ? from + count : from));
    });
  });

  it('skips aborted records under read_committed and moves past the transaction markers', async () => {
    const topic = uniqueName('rt-reader-txn');
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer({ transactionalId: `${topic}-tx` });
    await producer.connect();
    const rec = (v: string) => [{ topic, partition: 0, key: v, value: v }];
    // Offsets: a 0, b 1, marker 2, x 3, y 4, marker 5, c 6, marker 7.
    let t = await producer.transaction();
    await t.send([...rec('a'), ...rec('b')]);
    await t.commit();
    t = await producer.transaction();
    await t.send([...rec('x'), ...rec('y')]);
    await t.abort();
    t = await producer.transaction();
    await t.send(rec('c'));
    await t.commit();
    await producer.disconnect();

    const committed = client.partitionReader({ readCommitted: true });
    try {
      // The last marker is written just after commit() returns: read until the end includes it.
      let all = await committed.read({ topic, partition: 0, offset: '0', maxRecords: 10 });
      const deadline = Date.now() + 30_000;
      while (all.highWatermark !== '8' && Date.now() < deadline) all = await committed.read({ topic, partition: 0, offset: '0', maxRecords: 10 });
      expect(all.messages.map((m) => [m.offset, m.value!.toString()])).toEqual([
        ['0', 'a'],
        ['1', 'b'],
        ['6', 'c'],
      ]);
      const inside = await committed.read({ topic, partition: 0, offset: '3', maxRecords: 1 });
      expect(inside.messages.map((m) => [m.offset, m.value!.toString()])).toEqual([['6', 'c']]);
      const onMarker = await committed.read({ topic, partition: 0, offset: '7', maxRecords: 1, maxWaitMs: 100 });
      expect(onMarker.messages).toEqual([]);
      expect(onMarker.nextOffset).toBe('8');
    } finally {
      await committed.close();
    }
    // read_uncommitted sees the aborted records too.
    const everything = await reader.read({ topic, partition: 0, offset: '0', maxRecords: 10 });
    expect(everything.messages.map((m) => m.value!.toString())).toEqual(['a', 'b', 'x', 'y', 'c']);
  });
});

describe('partition reader: batches compressed with a codec kafkajs cannot decode', () => {
  /** A topic of one partition holding 200 records in lz4 batches, written by librdkafka. */
  async function lz4Topic(): Promise<string> {
    const topic = uniqueName('rt-reader-lz4');
    const admin = clientFor('confluent').admin();
    await admin.connect();
    try {
      await admin.ensureTopics([{ topic, partitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    const { KafkaJS } = require('@confluentinc/kafka-javascript');
    const producer = new KafkaJS.Kafka({ kafkaJS: { brokers, logLevel: KafkaJS.logLevel.NOTHING } }).producer({ 'compression.codec': 'lz4', 'linger.ms': 50 });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: value(0, i, 200), partition: 0 })) });
    await producer.disconnect();
    return topic;
  }

  it('reads them through librdkafka with KAFKA_CLIENT=confluent', async () => {
    const topic = await lz4Topic();
    const reader = clientFor('confluent').partitionReader();
    try {
      const got: string[] = [];
      let offset = '0';
      while (got.length < 200) {
        const r = await reader.read({ topic, partition: 0, offset, maxRecords: 75 });
        got.push(...r.messages.map((m) => m.value!.toString()));
        offset = r.nextOffset;
      }
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => value(0, i, 200)));
    } finally {
      await reader.close();
    }
  });

  it('fails the read, naming the codec, with KAFKA_CLIENT=kafkajs', async () => {
    const topic = await lz4Topic();
    const reader = clientFor('kafkajs').partitionReader();
    try {
      await expect(reader.read({ topic, partition: 0, offset: '0', maxRecords: 10 })).rejects.toThrow(/LZ4/i);
    } finally {
      await reader.close();
    }
  });
});
