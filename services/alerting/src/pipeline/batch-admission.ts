/**
 * Which records of a fetched batch a partition worker evaluates. Pure.
 *
 * A new worker reads from the committed offset it read after fencing the previous owner: its first
 * batch starts elsewhere when the group's offsets were read at join, before that owner's last
 * commit (older), or when the client goes on from where it was fetching — records it had
 * prefetched before a revocation, or a seek back after a failed transaction that was lost because
 * the partition was being revoked (newer: the records in between were never committed, and
 * evaluating from there would pass over them). Either way it fetches again from the committed
 * offset, once: the first record there may still come later (transaction markers and aborted
 * records are not delivered). Later, records before the worker's position (evaluated already,
 * pending or committed) are refetches after a rebalance or a seek: skipped.
 */
export interface WorkerProgress {
  /** Committed offset read after fencing (undefined: none yet, reading starts at the log's start). */
  committed: bigint | undefined;
  checkedFirstBatch: boolean;
  /** Offset after the last record this worker evaluated (pending or committed). */
  position: bigint | undefined;
}

export type Admission = { kind: 'seek'; offset: bigint } | { kind: 'skip' } | { kind: 'evaluate'; from: number };

/** `offsets` are the batch's, ascending; `from` is the index of the first record to evaluate. */
export function admitBatch(w: WorkerProgress, offsets: readonly string[]): Admission {
  const first = BigInt(offsets[0]);
  // Offset 0 below the log's start resets to its start (the consumer reads from the beginning).
  const start = w.committed ?? 0n;
  if (!w.checkedFirstBatch && first !== start) return { kind: 'seek', offset: start };
  const from = w.position;
  if (from === undefined || first >= from) return { kind: 'evaluate', from: 0 };
  const i = offsets.findIndex((o) => BigInt(o) >= from);
  return i < 0 ? { kind: 'skip' } : { kind: 'evaluate', from: i };
}
