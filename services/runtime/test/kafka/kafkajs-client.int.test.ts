/**
 * The runtime's Kafka interface against the real broker: topics, acks=all produce with
 * key-stable partitioning, group consumption with manual commits, and transactions
 * (committed records visible to read_committed consumers, aborted ones never).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { KafkajsClient, kafkaConfigFrom } from '../../src/kafka/kafkajs-client';
import type { Consumer, IncomingMessage, KafkaClient } from '../../src/kafka/types';

const logger = pino({ level: 'silent' });
const client: KafkaClient = new KafkajsClient(
  kafkaConfigFrom(
    {
      kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      kafkaClientId: 'runtime-test',
      kafkaSaslMechanism: 'none',
      kafkaTls: false,
      kafkaConnectionTimeoutMs: 10_000,
    },
    logger,
  ),
);

const suffix = () => randomUUID().slice(0, 8);

async function consumeAll(groupId: string, topic: string, expected: number, readCommitted = true): Promise<{ consumer: Consumer; messages: IncomingMessage[] }> {
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

describe('KafkajsClient', () => {
  const admin = client.admin();
  const created: string[] = [];

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics(created).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates missing topics only once', async () => {
    const topic = `rt-topics-${suffix()}`;
    created.push(topic);
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual([topic]);
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual([]);
    expect(await admin.partitionCount(topic)).toBe(3);
  });

  it('produces with acks=all, keeps one key on one partition, and commits consumer offsets', async () => {
    const topic = `rt-produce-${suffix()}`;
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

    const groupId = `rt-group-${suffix()}`;
    const { consumer, messages } = await consumeAll(groupId, topic, 20);
    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of messages) {
      const k = m.key!.toString();
      if (!partitionOfKey.has(k)) partitionOfKey.set(k, new Set());
      partitionOfKey.get(k)!.add(m.partition);
    }
    for (const k of keys) expect(partitionOfKey.get(k)!.size).toBe(1);
    // Per key, rounds arrive in order.
    for (const k of keys) {
      const rounds = messages.filter((m) => m.key!.toString() === k).map((m) => JSON.parse(m.value!.toString()).round);
      expect(rounds).toEqual([0, 1, 2, 3, 4]);
    }
    expect(messages[0].headers.round).toBeInstanceOf(Buffer);

    const ends = await admin.endOffsets(topic);
    await consumer.commit(ends);
    const committed = await admin.committedOffsets(groupId, topic);
    expect(committed.sort((a, b) => a.partition - b.partition)).toEqual(ends.sort((a, b) => a.partition - b.partition));
    await consumer.disconnect();
  });

  it('makes committed transactions visible and aborted ones invisible to read_committed consumers', async () => {
    const topic = `rt-txn-${suffix()}`;
    created.push(topic);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer({ transactionalId: `rt-txn-${suffix()}` });
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send([{ topic, key: 'a', value: 'aborted' }]);
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send([{ topic, key: 'c', value: 'committed' }]);
    await committed.sendOffsets(`rt-txn-group-${suffix()}`, [{ topic, partition: 0, offset: '0' }]);
    await committed.commit();
    await producer.disconnect();

    const { consumer, messages } = await consumeAll(`rt-reader-${suffix()}`, topic, 1);
    // Give a possible stray aborted record a moment to show up before asserting.
    await new Promise((r) => setTimeout(r, 500));
    expect(messages.map((m) => m.value!.toString())).toEqual(['committed']);
    await consumer.disconnect();
  });
});
