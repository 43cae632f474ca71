/** Kafka helpers for bridge integration tests, through the runtime's client (never kafkajs directly). */
import { KafkajsClient, kafkaConfigFrom, createLogger, type IncomingMessage, type KafkaClient, type OutgoingMessage } from '@tideway/runtime';

export function testKafka(): KafkaClient {
  const logger = createLogger('bridge-test', 'silent');
  return new KafkajsClient(
    kafkaConfigFrom(
      { kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), kafkaClientId: 'bridge-test', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10_000 },
      logger,
    ),
  );
}

export async function createTopics(kafka: KafkaClient, topics: Array<{ topic: string; partitions: number; configs?: Record<string, string> }>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.ensureTopics(topics.map((t) => ({ topic: t.topic, partitions: t.partitions, replicationFactor: 1, configs: t.configs })));
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: KafkaClient, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics(topics.filter((t) => existing.has(t)));
  } catch {
    // best effort
  } finally {
    await admin.disconnect();
  }
}

export async function produce(kafka: KafkaClient, messages: OutgoingMessage[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) await producer.send(messages.slice(i, i + 500));
  } finally {
    await producer.disconnect();
  }
}

/** True once the group has committed the end offset of every partition of the topic. */
export async function groupCaughtUp(kafka: KafkaClient, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const end = await admin.endOffsets(topic);
    const committed = await admin.committedOffsets(groupId, topic);
    return end.every((e) => {
      const c = committed.find((x) => x.partition === e.partition);
      // An empty partition has nothing to commit.
      if (BigInt(e.offset) === 0n) return true;
      return c !== undefined && BigInt(c.offset) >= BigInt(e.offset);
    });
  } finally {
    await admin.disconnect();
  }
}

/** Reads a topic from the beginning until `count` records arrived (for DLQ checks). */
export async function consumeN(kafka: KafkaClient, topic: string, count: number, timeoutMs = 60_000): Promise<IncomingMessage[]> {
  const consumer = kafka.consumer({ groupId: `bridge-test-read-${Math.random().toString(16).slice(2)}`, fromBeginning: true });
  const got: IncomingMessage[] = [];
  await consumer.connect();
  await consumer.subscribe([topic]);
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length}/${count} records on ${topic}`)), timeoutMs);
    void consumer.run(async (batch) => {
      got.push(...batch.messages);
      if (got.length >= count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  return got;
}
