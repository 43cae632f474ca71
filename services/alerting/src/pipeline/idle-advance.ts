/**
 * Partitions without events for ALERTING_IDLE_TIMEOUT_MS stop holding windows open: their
 * event time moves to the most advanced partition of this instance (as Flink leaves idle
 * inputs out of its watermark), or with the wall clock since the last event, whichever is later.
 * Only while nothing is waiting to be read here: a partition behind on its backlog, or any
 * input partition of this instance that is, is busy, not idle.
 */
import { emptyOutput, type StageOutput } from './partition-state';
import type { PartitionWorker } from './partition-worker';

export interface EventClock {
  caughtUp: boolean;
  /** Wall-clock time and watermark at the partition's last event. */
  lastEventWall: number;
  lastEventWatermark: number;
}

export function isIdle(p: EventClock, now: number, idleTimeoutMs: number): boolean {
  return p.caughtUp && now - p.lastEventWall >= idleTimeoutMs && Number.isFinite(p.lastEventWatermark);
}

/** The watermark an idle partition moves to. */
export function idleWatermark(localMax: number, p: EventClock, now: number): number {
  return Math.max(localMax, p.lastEventWatermark + (now - p.lastEventWall));
}

/** A watermark move alone is not worth a transaction; it is persisted with the next one. */
export function worthCommitting(out: StageOutput, changedKeys: number): boolean {
  return out.alerts.length > 0 || out.records.length > 0 || changedKeys > 0;
}

export interface IdleAdvanceDeps {
  idleTimeoutMs: number;
  isStopped(): boolean;
  /** Window output of an advance joins the partition's pending transaction. */
  addOutput(worker: PartitionWorker, out: StageOutput): void;
  commit(worker: PartitionWorker): Promise<void>;
  onFailure(worker: PartitionWorker, err: unknown): void;
  now?: () => number;
}

/** `stateWorkers` own repartition partitions; `inputWorkers` own input partitions. */
export async function advanceIdlePartitions(stateWorkers: PartitionWorker[], inputWorkers: PartitionWorker[], d: IdleAdvanceDeps): Promise<void> {
  const clock = d.now ?? Date.now;
  const now = clock();
  if (inputWorkers.some((w) => !w.caughtUp)) return;
  const localMax = Math.max(-Infinity, ...stateWorkers.map((w) => w.state!.watermark));
  for (const worker of stateWorkers) {
    if (d.isStopped()) return;
    if (!isIdle(worker, now, d.idleTimeoutMs)) continue;
    await worker
      .exclusive(async () => {
        if (worker.closed || d.isStopped()) return;
        const state = worker.state!;
        const target = idleWatermark(localMax, worker, clock());
        if (target <= state.watermark) return;
        const out = emptyOutput();
        state.advance(out, target);
        if (!worthCommitting(out, state.changedKeys)) return;
        worker.pending.stateTouched = true;
        d.addOutput(worker, out);
        await d.commit(worker);
      })
      .catch((err) => d.onFailure(worker, err));
  }
}
