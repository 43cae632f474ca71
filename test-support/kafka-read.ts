/**
 * Reading a topic back in integration tests, with the runtime's Kafka client: from the beginning,
 * with a fresh consumer group, until a condition over everything read so far holds.
 */
import { randomBytes } from 'node:crypto';
import { KafkajsClient, createLogger, kafkaConfigFrom, type IncomingMessage } from '@tideway/runtime';

/** A Kafka client for `brokers` (default: the stack's), for test set-up and read-back. */
export function testKafka(brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'): KafkajsClient {
  const logger = createLogger('test', 'silent');
  return new KafkajsClient(kafkaConfigFrom({ kafkaBrokers: brokers.split(','), kafkaClientId: 'tideway-test', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10_000 }, logger));
}

export interface ReadUntilOptions {
  brokers?: string;
  /** Skip records of aborted transactions (for transactional outputs). */
  readCommitted?: boolean;
  timeoutMs?: number;
  /** Once `done` holds, keep reading this long (to see records that should not be there, e.g. duplicates). */
  settleMs?: number;
}

/**
 * Reads `topic` from the beginning until `done(all)` holds; gives up after `timeoutMs` and returns
 * what it has, so that the caller's assertion shows the difference.
 */
export async function readTopicUntil(topic: string, done: (all: IncomingMessage[]) => boolean, options: ReadUntilOptions = {}): Promise<IncomingMessage[]> {
  const kafka = testKafka(options.brokers);
  const consumer = kafka.consumer({ groupId: `tideway-test-read-${randomBytes(4).toString('hex')}`, fromBeginning: true, readCommitted: options.readCommitted ?? false, maxWaitTimeMs: 200 });
  const all: IncomingMessage[] = [];
  let settling = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, options.timeoutMs ?? 120_000);
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

/** A change event's `after` image (null for deletes and tombstones). */
export function afterImage<T>(m: IncomingMessage): T | null {
  if (!m.value) return null;
  return ((JSON.parse(m.value.toString('utf8')) as { after?: T | null }).after ?? null) as T | null;
}
