/**
 * Reads the changelog partitions of newly assigned repartition partitions back into memory.
 *
 * The new owner first fences the old one (its transactional producer for the partition is
 * initialised, which aborts any open transaction of a zombie), then commits a sentinel record
 * to each changelog partition and reads (read_committed) from the beginning until it meets its
 * own sentinel: everything committed before the fence is then in memory, nothing after it can be.
 */
import { randomUUID } from 'node:crypto';
import { ignoreFailure, type KafkaClient, type Logger } from '@tideway/runtime';

export const SENTINEL_KEY = '\u0000restore';

export interface RestoreTarget {
  partition: number;
  sentinel: string;
  apply(key: string, value: string | null): void;
}

export async function restoreChangelog(
  kafka: KafkaClient,
  logger: Logger,
  groupId: string,
  topic: string,
  targets: RestoreTarget[],
  signal: AbortSignal,
): Promise<void> {
  if (targets.length === 0) return;
  const started = Date.now();
  const byPartition = new Map(targets.map((t) => [t.partition, t]));
  const consumer = kafka.consumer({ groupId: `${groupId}.restore.${randomUUID()}`, fromBeginning: true, readCommitted: true, maxWaitTimeMs: 100 });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const onAbort = () => done();
  signal.addEventListener('abort', onAbort, { once: true });
  let records = 0;
  try {
    await consumer.connect();
    await consumer.subscribe([topic]);
    await consumer.run(async (batch) => {
      const target = byPartition.get(batch.partition);
      if (!target) {
        consumer.pause([{ topic, partition: batch.partition }]);
        return;
      }
      for (const m of batch.messages) {
        const key = m.key?.toString('utf8') ?? '';
        if (key === SENTINEL_KEY) {
          if (m.value?.toString('utf8') === target.sentinel) {
            byPartition.delete(batch.partition);
            consumer.pause([{ topic, partition: batch.partition }]);
            if (byPartition.size === 0) done();
            return;
          }
          continue;
        }
        records++;
        target.apply(key, m.value === null ? null : m.value.toString('utf8'));
      }
    });
    await finished;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(ignoreFailure(logger, 'restore consumer disconnect', { topic }));
  }
  logger.info({ topic, partitions: targets.map((t) => t.partition), records, ms: Date.now() - started }, 'window state restored from changelog');
}

export function newSentinel(): string {
  return randomUUID();
}
