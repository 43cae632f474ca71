/**
 * Which records of a fetched batch the warehouse still needs, given the partition's position:
 * the offset stored with the last transaction applied (the warehouse's, not Kafka's). Pure.
 */

export interface PartitionPosition {
  /** Offset of the next record the warehouse expects for this partition. */
  expectedNext: bigint;
  /** The fetch position has been checked against (or moved to) `expectedNext` since assignment. */
  aligned: boolean;
}

export type BatchPlan<T> =
  /** The fetch position is ahead of the warehouse (Kafka's committed offset is only a hint): fetch again from the warehouse's offset. */
  | { kind: 'seek'; offset: bigint }
  /** Records at or after the expected offset, in order; `skipped` were applied already. */
  | { kind: 'apply'; records: T[]; skipped: number }
  /** Nothing new; when the warehouse is past the whole batch, fetch from its offset (`seek`). */
  | { kind: 'none'; skipped: number; seek?: bigint };

/** Offsets within a batch are ascending; a gap after `expectedNext` (compaction, markers) is fine once aligned. */
export function planBatch<T extends { offset: string }>(pos: PartitionPosition, messages: T[]): BatchPlan<T> {
  const expected = pos.expectedNext;
  if (!pos.aligned && BigInt(messages[0].offset) > expected) return { kind: 'seek', offset: expected };
  const records = messages.filter((m) => BigInt(m.offset) >= expected);
  const skipped = messages.length - records.length;
  if (records.length > 0) return { kind: 'apply', records, skipped };
  const last = BigInt(messages[messages.length - 1].offset);
  return expected > last + 1n ? { kind: 'none', skipped, seek: expected } : { kind: 'none', skipped };
}

/** The offset stored with a run of records: the one after its last. */
export function offsetAfter(run: Array<{ offset: string }>): bigint {
  return BigInt(run[run.length - 1].offset) + 1n;
}
