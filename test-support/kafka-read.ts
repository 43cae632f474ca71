/**
 * Reading a topic back in integration tests, with the runtime's Kafka client and a fresh consumer
 * group each time:
 *
 *   readTopicUntil(topic, done)       from the beginning until a condition over all read so far holds
 *   readTopicToEnd(kafka, topic)      every committed record up to the end offsets at call time
 *   readTopicEventually(kafka, ...)   readTopicToEnd again until a condition holds
 */
import { type IncomingMessage, type KafkaClient } from '@tideway/runtime';
import { testKafka } from './kafka';
import { uniqueName } from './stack';
import { waitFor } from './wait';

export interface ReadUntilOptions {
  brokers?: string;
  /** Skip records of aborted transactions (for transactional outputs). */
  readCommitted?: boolean;
  timeoutMs?: number;
  /** Once `done` holds, keep reading this long (to see records that should not be there, e.g. duplicates). */
  settleMs?: number;
  /** Wait until the topic exists before subscribing (for a topic a service creates: never race it into existence). */
  awaitTopic?: boolean;
}

/**
 * Reads `topic` from the beginning until `done(all)` holds; gives up after `timeoutMs` and returns
 * what it has, so that the caller's assertion shows the difference.
 */
export async function readTopicUntil(topic: string, done: (all: IncomingMessage[]) => boolean, options: ReadUntilOptions = {}): Promise<IncomingMessage[]> {
  const kafka = testKafka(options.brokers);
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (options.awaitTopic) await topicExists(kafka, topic, timeoutMs).catch(() => undefined);
  const consumer = kafka.consumer({
    groupId: uniqueName('tideway-test-read'),
    fromBeginning: true,
    readCommitted: options.readCommitted ?? false,
    maxWaitTimeMs: 200,
  });
  const all: IncomingMessage[] = [];
  let settling = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe([topic]);
    await consumer.run(async (batch) => {
      for (const m of batch.messages) all.push(m);
      if (!settling && done(all)) {
        settling = true;
        setTimeout(finish, options.settleMs ?? 0);
      }
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return all;
}

async function topicExists(kafka: KafkaClient, topic: string, timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => (await admin.listTopics()).includes(topic), { timeoutMs, intervalMs: 250, what: `topic ${topic}` });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Reads every committed record of a topic, up to its end offsets at call time, in partition and offset order. */
export async function readTopicToEnd(kafka: KafkaClient, topic: string): Promise<IncomingMessage[]> {
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
  const consumer = kafka.consumer({ groupId: uniqueName('tideway-test-read'), fromBeginning: true, readCommitted: true, maxWaitTimeMs: 100 });
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

/** Reads the topic to its end again until `done(records)` or the deadline, and returns the last read. */
export async function readTopicEventually(
  kafka: KafkaClient,
  topic: string,
  done: (records: IncomingMessage[]) => boolean,
  timeoutMs = 90_000,
): Promise<IncomingMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readTopicToEnd(kafka, topic);
    if (done(records) || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A record's JSON value (null for a tombstone). */
export function json<T = Record<string, unknown>>(m: IncomingMessage): T {
  return (m.value ? JSON.parse(m.value.toString('utf8')) : null) as T;
}

/** A change event's `after` image (null for deletes and tombstones). */
export function afterImage<T>(m: IncomingMessage): T | null {
  return json<{ after?: T | null } | null>(m)?.after ?? null;
}
