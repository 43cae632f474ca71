/**
 * Helpers for alerting's integration tests against the real local Kafka: unique names, topic
 * setup and cleanup, producing, and reading a topic to its end with read_committed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaClient, createLogger, type IncomingMessage, type KafkaClient, type KafkaClientName, type OutgoingMessage, type TopicSpec } from '@tideway/runtime';

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The client KAFKA_CLIENT chooses, as the service does: a test consumer may join a service's group, which needs the same assignor. */
export function kafkaClient(): KafkaClient {
  const logger = createLogger('alerting-test', 'silent');
  return createKafkaClient(
    {
      kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      kafkaClientId: 'alerting-test',
      kafkaSaslMechanism: 'none',
      kafkaTls: false,
      kafkaConnectionTimeoutMs: 10_000,
      kafkaClient: (process.env.KAFKA_CLIENT as KafkaClientName | undefined) ?? 'confluent',
    },
    logger,
  );
}

export async function createTopics(kafka: KafkaClient, specs: TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.ensureTopics(specs);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topics of a test whose names start with `prefix` (only what the test created). */
export async function deleteTopicsWithPrefix(kafka: KafkaClient, prefixes: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
    await admin.deleteTopics(mine).catch(() => undefined);
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

/** Reads every committed record of a topic, up to its end offsets at call time. */
export async function readTopic(kafka: KafkaClient, topic: string): Promise<IncomingMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends;
  try {
    ends = await admin.endOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const pending = new Map(ends.filter((e) => BigInt(e.offset) > 0n).map((e) => [e.partition, BigInt(e.offset)]));
  const out: IncomingMessage[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('alerting-test-reader'), fromBeginning: true, readCommitted: true, maxWaitTimeMs: 100 });
  await consumer.connect();
  await consumer.subscribe([topic]);
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const last = new Map<number, bigint>();
  let quiet: NodeJS.Timeout | undefined;
  const check = () => {
    const lastOf = (p: number) => last.get(p) ?? -1n;
    if ([...pending].every(([p, end]) => lastOf(p) + 1n >= end)) return done();
    // A transactional topic ends with a commit marker (never delivered), and aborted records
    // are skipped: once nothing new arrives for a while, what was read is everything committed.
    if (quiet) clearTimeout(quiet);
    quiet = setTimeout(done, [...pending].every(([p, end]) => lastOf(p) + 2n >= end) ? 500 : 3000);
  };
  // Joining a new group takes a few seconds before the first batch.
  quiet = setTimeout(done, 20_000);
  await consumer.run(async (batch) => {
    for (const m of batch.messages) out.push(m);
    if (batch.messages.length > 0) last.set(batch.partition, BigInt(batch.messages[batch.messages.length - 1].offset));
    check();
  });
  await finished;
  if (quiet) clearTimeout(quiet);
  await consumer.disconnect();
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** Polls `readTopic` until `done(records)` or the deadline, and returns the last read. */
export async function readUntil(kafka: KafkaClient, topic: string, done: (records: IncomingMessage[]) => boolean, timeoutMs = 90_000): Promise<IncomingMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readTopic(kafka, topic);
    if (done(records) || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Waits until `group` has committed every record of `topic` (input topics are not transactional here). */
export async function waitCaughtUp(kafka: KafkaClient, group: string, topic: string, timeoutMs = 180_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ends = await admin.endOffsets(topic);
      const committed = await admin.committedOffsets(group, topic);
      const behind = ends.filter((e) => BigInt(committed.find((c) => c.partition === e.partition)?.offset ?? '-1') < BigInt(e.offset) && BigInt(e.offset) > 0n);
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`group ${group} still behind on ${topic}: ${JSON.stringify(behind)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

export function json<T = Record<string, unknown>>(m: IncomingMessage): T {
  return JSON.parse(m.value!.toString('utf8')) as T;
}

export function writeRules(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-alerting-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** A Debezium-style change event as `tideway cdc` writes it. */
export function changeEvent(table: string, op: 'c' | 'u' | 'd', after: Record<string, unknown> | null, before: Record<string, unknown> | null = null) {
  return JSON.stringify({ before, after, op, ts_ms: Date.now(), source: { connector: 'postgresql', db: 'app', schema: 'public', table, lsn: 1, txId: 1, ts_ms: Date.now(), snapshot: 'false' } });
}
