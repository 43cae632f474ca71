/**
 * The decisions of a groupless partition read, without I/O: how many fetched records one read
 * returns, and which connection of the pool serves a read.
 */

/** What a record counts against a read's byte bound: its key and value. */
export function recordBytes(m: { key: Buffer | null; value: Buffer | null }): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0);
}

/**
 * How many of `messages` (in order) one read returns: at most `maxRecords`, and at most `maxBytes`
 * of keys and values, but at least one record when there is one (a larger record alone), so that
 * a reader always moves on.
 */
export function takeWithin(messages: ReadonlyArray<{ key: Buffer | null; value: Buffer | null }>, maxRecords: number, maxBytes = Infinity): number {
  const limit = Math.min(messages.length, Math.max(0, maxRecords));
  let bytes = 0;
  for (let i = 0; i < limit; i++) {
    bytes += recordBytes(messages[i]);
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return limit;
}

export interface SlotState {
  busy: boolean;
  /** The partition the connection is reading and the offset it continues at, when positioned. */
  at?: { topic: string; partition: number; next: string };
  /** When it last served a read (a counter): the least recent one is repositioned first. */
  lastUsed: number;
}

/**
 * The idle connection for a read: one already positioned where the read starts (its fetched
 * records are ready), else the least recently used; -1 when all are busy.
 */
export function pickSlot(slots: readonly SlotState[], read: { topic: string; partition: number; offset: string }): number {
  let best = -1;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (s.busy) continue;
    if (s.at && s.at.topic === read.topic && s.at.partition === read.partition && s.at.next === read.offset) return i;
    if (best === -1 || s.lastUsed < slots[best].lastUsed) best = i;
  }
  return best;
}

/** What a read does after one fetch from `start`. */
export type FetchStep =
  /** Return the first `count` usable records; the next read starts at `next`. */
  | { kind: 'records'; count: number; next: bigint }
  /** Nothing to return: the partition's end is reached (or the fetch brought nothing); `next` is where to read on. */
  | { kind: 'end'; next: bigint }
  /** Only transaction markers or aborted records were fetched: fetch again from `next`, past them. */
  | { kind: 'skip'; next: bigint };

/**
 * The decision after one fetch: `usable` are the fetched records a reader may see (from `start` on,
 * without markers and aborted records), `lastFetched` the highest offset the fetch brought at or
 * after `start` (markers and aborted records included; undefined when none), `end` the partition's
 * end as the fetch reported it (the last stable offset under read_committed). Never moves past a
 * usable record it does not return, nor past the last offset fetched.
 */
export function stepAfterFetch(
  start: bigint,
  usable: ReadonlyArray<{ offset: string; key: Buffer | null; value: Buffer | null }>,
  lastFetched: bigint | undefined,
  end: bigint,
  maxRecords: number,
  maxBytes?: number,
): FetchStep {
  if (usable.length > 0) {
    const count = takeWithin(usable, Math.max(1, maxRecords), maxBytes);
    return { kind: 'records', count, next: BigInt(usable[count - 1].offset) + 1n };
  }
  if (lastFetched === undefined || lastFetched < start) return { kind: 'end', next: start };
  const next = lastFetched + 1n;
  return next >= end ? { kind: 'end', next } : { kind: 'skip', next };
}
