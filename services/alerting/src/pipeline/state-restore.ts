/**
 * Window state of newly assigned repartition partitions, read back from the changelog. Each
 * worker's producer has fenced the previous owner; it then commits a sentinel to its changelog
 * partition, and the restore reads until it meets the sentinels (see io/changelog-restore.ts).
 */
import { ignoreFailure, type KafkaClient, type Logger } from '@tideway/runtime';
import { newSentinel, restoreChangelog, SENTINEL_KEY, type RestoreTarget } from '../io/changelog-restore';
import type { RuleIndex } from './input-evaluator';
import { PartitionState } from './partition-state';
import type { PartitionWorker } from './partition-worker';
import { commitTransaction } from './transaction-commit';

export interface StateRestoreOptions {
  kafka: KafkaClient;
  logger: Logger;
  groupId: string;
  changelogTopic: string;
  signal: AbortSignal;
}

export async function restoreWindowState(workers: PartitionWorker[], index: RuleIndex, o: StateRestoreOptions): Promise<void> {
  const targets: RestoreTarget[] = [];
  for (const w of workers) {
    const state = new PartitionState(index);
    w.state = state;
    const sentinel = newSentinel();
    const t = await w.producer.transaction();
    const records = [{ topic: o.changelogTopic, partition: w.partition, key: SENTINEL_KEY, value: sentinel }];
    const context = { topic: o.changelogTopic, partition: w.partition };
    await commitTransaction(t, { records, offsets: [], groupId: o.groupId }, ignoreFailure(o.logger, 'aborting the restore sentinel', context));
    targets.push({ partition: w.partition, sentinel, apply: (k, v) => state.restore(k, v) });
  }
  await restoreChangelog(o.kafka, o.logger, o.groupId, o.changelogTopic, targets, o.signal);
  for (const w of workers) w.lastEventWatermark = w.state!.watermark;
}
