/**
 * Stage 2: a batch of the repartition topic applied to its partition's window state. Results and
 * dead letters join the partition's pending transaction; the changelog is taken at commit.
 */
import { errorMessage, type IncomingMessage } from '@tideway/runtime';
import type { ForwardedEvent } from './input-evaluator';
import { emptyOutput, type PartitionState, type StageOutput } from './partition-state';
import type { PartitionWorker } from './partition-worker';
import type { PendingContext } from './pending-transaction';
import { decodeRepartitionValue } from './repartition-bundles';

export interface AppliedBatch {
  out: StageOutput;
  /** Records that are not a repartition bundle, with the reason. */
  malformed: Array<{ message: IncomingMessage; error: string }>;
}

/** Applies every event of the batch's records, in order. */
export function applyRepartitionRecords(state: PartitionState, messages: IncomingMessage[]): AppliedBatch {
  const out = emptyOutput();
  const malformed: AppliedBatch['malformed'] = [];
  for (const m of messages) {
    let events: ForwardedEvent[];
    try {
      events = decodeRepartitionValue(m.value);
    } catch (err) {
      malformed.push({ message: m, error: errorMessage(err) });
      continue;
    }
    for (const ev of events) state.apply(ev, out);
  }
  return { out, malformed };
}

/** The worker's state applies the batch; its output joins the pending transaction. */
export function evaluateWindowBatch(worker: PartitionWorker, messages: IncomingMessage[], ctx: PendingContext, now = Date.now()): void {
  const state = worker.state!;
  const { out, malformed } = applyRepartitionRecords(state, messages);
  for (const { message, error } of malformed) worker.pending.addDeadLetter(message, 'malformed_json', error, ctx);
  worker.lastEventWall = now;
  worker.lastEventWatermark = state.watermark;
  worker.pending.stateTouched = true;
  worker.pending.addStateOutput(out, state.changedKeys, ctx);
}
