/**
 * Which records of a fetched batch a partition worker evaluates. Pure.
 *
 * A new worker's first batch may start before the committed offset it read after fencing the
 * previous owner (the group's offsets were read at join, possibly before that owner's last
 * commit): fetch again from the committed offset. Later, records before the worker's position
 * (evaluated already, pending or committed) are refetches after a rebalance or a seek: skipped.
 */
export interface WorkerProgress {
  /** Committed offset read after fencing. */
  committed: bigint | undefined;
  checkedFirstBatch: boolean;
  /** Offset after the last record this worker evaluated (pending or committed). */
  position: bigint | undefined;
}

export type Admission = { kind: 'seek'; offset: bigint } | { kind: 'skip' } | { kind: 'evaluate'; from: number };

/** `offsets` are the batch's, ascending; `from` is the index of the first record to evaluate. */
export function admitBatch(w: WorkerProgress, offsets: readonly string[]): Admission {
  const first = BigInt(offsets[0]);
  if (!w.checkedFirstBatch && w.committed !== undefined && first < w.committed) return { kind: 'seek', offset: w.committed };
  const from = w.position;
  if (from === undefined || first >= from) return { kind: 'evaluate', from: 0 };
  const i = offsets.findIndex((o) => BigInt(o) >= from);
  return i < 0 ? { kind: 'skip' } : { kind: 'evaluate', from: i };
}
