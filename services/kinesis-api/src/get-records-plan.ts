/**
 * How one GetRecords is read: fetch after fetch of at most FETCH_BYTES, each fetch's records
 * written out before the next, so that an answer of 10 MiB holds about one fetch at a time. The
 * plan stops at Kinesis's bounds (the request's Limit, at most 10,000 records; 10 MiB of data and
 * partition keys) and at the end of the shard. Pure.
 */
import { MAX_GET_RECORDS_BYTES, MAX_RECORD_BYTES } from './protocol/operations';

/** Bytes one fetch asks for: a fetch's response is held until its records are written. */
export const FETCH_BYTES = 1024 * 1024;
/** Fetches of one GetRecords at most (fetches that only pass over transaction markers count too). */
export const MAX_FETCHES = 100;

export interface GetRecordsProgress {
  readonly fetches: number;
  /** Records answered so far. */
  readonly records: number;
  /** Data and partition-key bytes answered so far. */
  readonly bytes: number;
  /** The last fetch reached the end of the shard as it was then. */
  readonly atEnd: boolean;
  /** The last fetch moved the position (past records, tombstones or transaction markers). */
  readonly moved: boolean;
}

export const NOTHING_READ: GetRecordsProgress = { fetches: 0, records: 0, bytes: 0, atEnd: false, moved: false };

/** The bounds of the next fetch, or undefined when the answer is complete. */
export function nextFetch(p: GetRecordsProgress, limit: number): { maxRecords: number; maxBytes: number } | undefined {
  if (p.fetches >= MAX_FETCHES || (p.fetches > 0 && (p.atEnd || !p.moved))) return undefined;
  const records = limit - p.records;
  const bytes = MAX_GET_RECORDS_BYTES - p.bytes;
  // A fetch answers at least one record, however large: the next one only while a whole record still fits.
  if (records <= 0 || (p.fetches > 0 && bytes < MAX_RECORD_BYTES)) return undefined;
  return { maxRecords: records, maxBytes: Math.min(FETCH_BYTES, bytes) };
}
