/**
 * Kafka in integration tests, through the runtime's client (never a Kafka library directly): a
 * client, topics, producing, and a consumer group's progress. Reading a topic back: kafka-read.ts.
 */
import {
  KafkajsClient,
  createKafkaClient,
  createLogger,
  kafkaConfigFrom,
  type KafkaClient,
  type KafkaClientName,
  type OutgoingMessage,
  type TopicSpec,
} from '@tideway/runtime';
import { waitFor } from './wait';

const connection = (brokers: string) => ({
  kafkaBrokers: brokers.split(','),
  kafkaClientId: 'tideway-test',
  kafkaSaslMechanism: 'none' as const,
  kafkaTls: false,
  kafkaConnectionTimeoutMs: 10_000,
});

/** A Kafka client for `brokers` (default: the stack's), for test set-up and read-back. */
export function testKafka(brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'): KafkajsClient {
  return new KafkajsClient(kafkaConfigFrom(connection(brokers), createLogger('test', 'silent')));
}

/**
 * The client KAFKA_CLIENT chooses, as a service does: a test consumer that joins a service's group
 * needs the service's assignor.
 */
export function serviceKafka(brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'): KafkaClient {
  return createKafkaClient(
    { ...connection(brokers), kafkaClient: (process.env.KAFKA_CLIENT as KafkaClientName | undefined) ?? 'confluent' },
    createLogger('test', 'silent'),
  );
}

async function withAdmin<T>(kafka: KafkaClient, fn: (admin: ReturnType<KafkaClient['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates the topics (replication factor 1 unless given) and returns once every partition has a leader. */
export async function createTopics(kafka: KafkaClient, specs: TopicSpec[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.ensureTopics(specs.map((s) => ({ replicationFactor: 1, ...s }))));
}

/** Deletes those of `topics` that exist (best effort: cleanup never fails a test). */
export async function deleteTopics(kafka: KafkaClient, topics: string[]): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics(topics.filter((t) => existing.has(t)));
  }).catch(() => undefined);
}

/** Deletes the topics whose names start with one of `prefixes` (a test's own, with their .dlq topics). */
export async function deleteTopicsWithPrefix(kafka: KafkaClient, prefixes: string[]): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
    await admin.deleteTopics(mine);
  }).catch(() => undefined);
}

/** Sends `messages` with an idempotent producer, 500 at a time. */
export async function produce(kafka: KafkaClient, messages: OutgoingMessage[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) await producer.send(messages.slice(i, i + 500));
  } finally {
    await producer.disconnect();
  }
}

/** The partitions of `topic` whose end offset `group` has not committed yet (empty partitions never lag). */
export function groupLag(kafka: KafkaClient, group: string, topic: string): Promise<Array<{ partition: number; end: string; committed: string | undefined }>> {
  return withAdmin(kafka, async (admin) => {
    const ends = await admin.endOffsets(topic);
    const committed = await admin.committedOffsets(group, topic);
    return ends
      .map((e) => ({ partition: e.partition, end: e.offset, committed: committed.find((c) => c.partition === e.partition)?.offset }))
      .filter((p) => BigInt(p.end) > 0n && (p.committed === undefined || BigInt(p.committed) < BigInt(p.end)));
  });
}

/** True once `group` has committed the end offset of every partition of `topic`. */
export async function groupCaughtUp(kafka: KafkaClient, group: string, topic: string): Promise<boolean> {
  return (await groupLag(kafka, group, topic)).length === 0;
}

/** Waits until `group` has committed every record of `topic` (for topics without transactions). */
export async function waitCaughtUp(kafka: KafkaClient, group: string, topic: string, timeoutMs = 180_000): Promise<void> {
  await waitFor(() => groupCaughtUp(kafka, group, topic), {
    timeoutMs,
    intervalMs: 250,
    what: `group ${group} caught up on ${topic}`,
    describe: async () => JSON.stringify(await groupLag(kafka, group, topic)),
  });
}
