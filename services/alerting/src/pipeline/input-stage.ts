/**
 * Stage 1: input batches are evaluated off the fetch loop (see evaluation-threads.ts). dispatch()
 * returns once the batch is sent, so the next batches are fetched, and repartitioned events
 * windowed, while it is evaluated. Its result joins the partition's pending transaction in the
 * order batches were sent; at most `maxInFlight` batches are out at a time.
 */
import { errorMessage, type IncomingMessage, type Logger, type MessageBatch } from '@tideway/runtime';
import type { BatchEvaluation } from './batch-evaluation';
import type { PartitionWorker } from './partition-worker';
import type { PendingContext } from './pending-transaction';

export interface InputStageDeps {
  evaluate(messages: IncomingMessage[]): Promise<BatchEvaluation>;
  pendingContext: PendingContext;
  logger: Logger;
  maxInFlight: number;
  isStopped(): boolean;
  /** Reading of the worker's partition resumes at `offset`. */
  seek(worker: PartitionWorker, offset: string): void;
  /** The worker's memory is ahead of what was committed: it is dropped. */
  discard(worker: PartitionWorker): Promise<void>;
  /** The pending transaction grew: it is committed now or on its timer. */
  commitOrSchedule(worker: PartitionWorker): Promise<void>;
  /** A merge that failed after its batch was evaluated (a commit that failed, reported where it failed). */
  onMergeFailure(worker: PartitionWorker, err: unknown): void;
}

export class InputStage {
  /** Input batches sent to evaluation whose results are not yet in their pending transaction. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: InputStageDeps) {}

  get batchesInFlight(): number {
    return this.inFlight.size;
  }

  /** `fresh`: the records of a batch this worker has not evaluated yet (see batch-admission.ts). */
  async dispatch(worker: PartitionWorker, fresh: MessageBatch): Promise<void> {
    const { d } = this;
    const evaluation = (async () => d.evaluate(fresh.messages))();
    // Awaited in order below, where a failure is handled; until then it must not count as unhandled.
    evaluation.catch(() => undefined);
    worker.position = BigInt(fresh.messages[fresh.messages.length - 1].offset) + 1n;
    const merged = worker.exclusive(async () => {
      let result: BatchEvaluation;
      try {
        result = await evaluation;
      } catch (err) {
        if (worker.closed) return;
        // Nothing of this batch is pending: the partition starts over from its last commit.
        d.logger.warn(
          { topic: worker.topic, partition: worker.partition, err: errorMessage(err) },
          'batch evaluation failed; the partition restarts from its last commit',
        );
        if (!d.isStopped()) d.seek(worker, worker.pending.base ?? fresh.messages[0].offset);
        await d.discard(worker);
        return;
      }
      if (worker.closed) return;
      worker.pending.begin(fresh);
      worker.pending.addInput(fresh, result, d.pendingContext);
      worker.position = worker.pending.include(fresh);
      d.pendingContext.metrics.batchDuration.observe({ stage: 'input' }, result.seconds);
      await d.commitOrSchedule(worker);
    });
    const tracked = merged.catch((err) => d.onMergeFailure(worker, err)).then(() => void this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    while (this.inFlight.size >= d.maxInFlight) await Promise.race(this.inFlight);
  }
}
