/**
 * One owned partition (input or repartition): its transactional producer, its pending transaction
 * and flush timer, its progress through the partition, and for a repartition partition its
 * window state. Every partition has its own transactional id (`<group>-<topic>-<partition>`),
 * so whichever instance opens a worker for it fences the previous owner's producer.
 */
import { ignoreFailure, type Admin, type KafkaClient, type Logger, type Producer } from '@tideway/runtime';
import type { WorkerProgress } from './batch-admission';
import { FlushTimer } from './flush-timer';
import type { PartitionState } from './partition-state';
import { PendingTransaction } from './pending-transaction';
import { TRANSACTIONAL_RETRY } from './transaction-commit';

export function workerId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function transactionalId(groupId: string, topic: string, partition: number): string {
  return `${groupId}-${topic}-${partition}`;
}

/**
 * Where a fenced worker starts, from the group's committed offset (`-1` or absent: none) and the
 * partition's end offset. Caught up: nothing to read, or at most the last record's transaction marker.
 */
export function startingProgress(committed: string | undefined, end: string | undefined): { committed: bigint | undefined; caughtUp: boolean } {
  const from = committed !== undefined && committed !== '-1' ? BigInt(committed) : undefined;
  const endOffset = BigInt(end ?? '0');
  return { committed: from, caughtUp: endOffset === 0n || (from !== undefined && from + 1n >= endOffset) };
}

export class PartitionWorker implements WorkerProgress {
  state?: PartitionState;
  pending = new PendingTransaction();
  readonly flushTimer: FlushTimer;
  /** Committed offset read after fencing: batches starting before it are replays of a zombie's work. */
  committed: bigint | undefined;
  checkedFirstBatch = false;
  /**
   * Offset after the last record this worker evaluated (pending or committed). After a rebalance
   * that keeps the partition here, the consumer fetches again from the last committed offset:
   * records before this position are already in the pending transaction and must not count twice.
   */
  position: bigint | undefined;
  lastEventWall = Date.now();
  lastEventWatermark = -Infinity;
  /** Nothing is left to read in this partition (from the consumer's position after each fetched batch). */
  caughtUp = false;
  closed = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly producer: Producer,
    commitIntervalMs: number,
    onFlushDue: (worker: PartitionWorker) => void,
  ) {
    this.flushTimer = new FlushTimer(commitIntervalMs, () => onFlushDue(this));
  }

  get id(): string {
    return workerId(this.topic, this.partition);
  }

  /** Batches, commits and idle ticks of one partition never interleave. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    // The caller of exclusive() gets the failure; the chain only keeps the order.
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The pending transaction, taken to be committed; a new one opens. */
  takePending(): PendingTransaction {
    this.flushTimer.cancel();
    const pending = this.pending;
    this.pending = new PendingTransaction();
    return pending;
  }

  /** The worker's producer goes; whatever is pending is dropped (it is evaluated again from the last commit). */
  async close(logger: Logger): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTimer.cancel();
    await this.producer.disconnect().catch(ignoreFailure(logger, 'producer disconnect', { topic: this.topic, partition: this.partition }));
  }
}

export interface OpenWorkerOptions {
  kafka: KafkaClient;
  admin: Admin;
  logger: Logger;
  groupId: string;
  transactionTimeoutMs: number;
  commitIntervalMs: number;
  onFlushDue(worker: PartitionWorker): void;
}

/**
 * Connects the partition's transactional producer, which fences the previous owner, then reads the
 * committed offset: offsets read at group join can predate a zombie's last commit (the gap KIP-447
 * closes in the Java client).
 */
export async function openPartitionWorker(o: OpenWorkerOptions, topic: string, partition: number): Promise<PartitionWorker> {
  const id = transactionalId(o.groupId, topic, partition);
  const producer = o.kafka.producer({ transactionalId: id, transactionTimeoutMs: o.transactionTimeoutMs, retry: TRANSACTIONAL_RETRY });
  await producer.connect();
  const worker = new PartitionWorker(topic, partition, producer, o.commitIntervalMs, o.onFlushDue);
  try {
    // Initialising the transactional id fences the previous owner and aborts its open transaction.
    const t = await producer.transaction();
    await t.abort();
    const committed = (await o.admin.committedOffsets(o.groupId, topic)).find((x) => x.partition === partition)?.offset;
    const end = (await o.admin.endOffsets(topic)).find((x) => x.partition === partition)?.offset;
    const start = startingProgress(committed, end);
    worker.committed = start.committed;
    worker.position = start.committed;
    worker.caughtUp = start.caughtUp;
  } catch (err) {
    await producer.disconnect().catch(ignoreFailure(o.logger, 'producer disconnect after a failed start', { topic, partition }));
    throw err;
  }
  return worker;
}
