/**
 * What a topic does not hold about its stream — the stream mode, its creation time, its tags —
 * kept in a compacted internal topic that every instance shares: one record per stream, keyed by
 * the stream's topic, the latest value winning and a tombstone when the stream is deleted. Pure:
 * encoding a record and folding the topic's records into the current state.
 */

export const METADATA_TOPIC = '_tideway_kinesis_streams';

export type StreamMode = 'PROVISIONED' | 'ON_DEMAND';

export interface StreamMetadata {
  readonly mode: StreamMode;
  readonly createdAtMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** A topic not created through the API (written by another service): provisioned, no tags, creation time unknown (epoch 0). */
export const UNKNOWN_METADATA: StreamMetadata = { mode: 'PROVISIONED', createdAtMs: 0, tags: {} };

export function encodeMetadata(m: StreamMetadata): Buffer {
  return Buffer.from(JSON.stringify({ mode: m.mode, createdAtMs: m.createdAtMs, tags: m.tags }), 'utf8');
}

/** A record's value as metadata; undefined for a tombstone or a value this version cannot read (treated as absent). */
export function decodeMetadata(value: Buffer | null): StreamMetadata | undefined {
  if (value === null || value.length === 0) return undefined;
  try {
    const v = JSON.parse(value.toString('utf8')) as Partial<StreamMetadata>;
    const mode = v.mode === 'ON_DEMAND' ? 'ON_DEMAND' : 'PROVISIONED';
    const createdAtMs = typeof v.createdAtMs === 'number' ? v.createdAtMs : 0;
    const tags = v.tags !== null && typeof v.tags === 'object' ? Object.fromEntries(Object.entries(v.tags).filter(([, t]) => typeof t === 'string')) : {};
    return { mode, createdAtMs, tags };
  } catch {
    return undefined;
  }
}

/** Each stream topic's latest metadata, from the metadata topic's records in offset order (a tombstone removes it). */
export function foldMetadata(records: ReadonlyArray<{ key: Buffer | null; value: Buffer | null }>): Map<string, StreamMetadata> {
  const out = new Map<string, StreamMetadata>();
  for (const r of records) {
    if (r.key === null) continue;
    const topic = r.key.toString('utf8');
    const m = decodeMetadata(r.value);
    if (m) out.set(topic, m);
    else out.delete(topic);
  }
  return out;
}

/** Kinesis allows 50 tags on a stream. */
export const MAX_TAGS_PER_STREAM = 50;
