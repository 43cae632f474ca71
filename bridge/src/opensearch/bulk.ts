/**
 * The `_bulk` request and its answer, without I/O: one `index` action per document (a document id
 * makes a redelivered record overwrite itself), and one outcome per document from the response's
 * items — indexed, retry (429 and 5xx: the shard was busy or failing), or rejected for good
 * (mapping errors and other 4xx), which goes to the dead-letter topic as Firehose's
 * FailedDocumentsOnly backup keeps it.
 */
import { createHash } from 'node:crypto';
import { getPath } from '@tideway/runtime';

/** Where a document's `_id` comes from. */
export type DocumentIdSpec = { kind: 'key' } | { kind: 'field'; path: string } | { kind: 'none' };

/** OpenSearch rejects ids over 512 bytes. */
export const MAX_ID_BYTES = 512;

/** The document id of a record, or undefined (OpenSearch assigns one: at-least-once). */
export function documentId(spec: DocumentIdSpec, key: Buffer | null, data: Buffer): string | undefined {
  let id: string | undefined;
  if (spec.kind === 'key') id = key && key.length > 0 ? key.toString('utf8') : undefined;
  else if (spec.kind === 'field') {
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch {
      return undefined;
    }
    const v = getPath(doc, spec.path);
    if (typeof v === 'string' && v !== '') id = v;
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') id = String(v);
  }
  if (id !== undefined && Buffer.byteLength(id) > MAX_ID_BYTES) id = createHash('md5').update(id).digest('hex');
  return id;
}

export interface BulkDocument {
  index: string;
  id?: string;
  /** The document's JSON, as read (or as the transform returned it). */
  source: Buffer;
}

const NEWLINE = Buffer.from('\n');

/** The action line of a document. */
export function actionLine(doc: BulkDocument): Buffer {
  const meta: Record<string, string> = { _index: doc.index };
  if (doc.id !== undefined) meta._id = doc.id;
  return Buffer.from(JSON.stringify({ index: meta }) + '\n');
}

/** Bytes a document costs in a bulk body: action line, source, newline. */
export function bulkBytes(doc: BulkDocument): number {
  return actionLine(doc).length + doc.source.length + 1;
}

/** The NDJSON body; a source's own newlines would split it, so a pretty-printed document is compacted. */
export function bulkBody(docs: readonly BulkDocument[]): Buffer {
  const parts: Buffer[] = [];
  for (const d of docs) {
    parts.push(actionLine(d), d.source.includes(0x0a) ? compact(d.source) : d.source, NEWLINE);
  }
  return Buffer.concat(parts);
}

function compact(source: Buffer): Buffer {
  try {
    return Buffer.from(JSON.stringify(JSON.parse(source.toString('utf8'))));
  } catch {
    // Not JSON: sent as one line anyway, and OpenSearch rejects it as that document's own failure.
    return Buffer.from(source.toString('utf8').replace(/\r?\n/g, ' '));
  }
}

export type DocumentOutcome = { kind: 'indexed' } | { kind: 'retry'; code: string; error: string } | { kind: 'rejected'; status: number; error: string };

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | string;
}

/** Error codes of retried documents (metric labels): HTTP429 or HTTP5xx. */
export function retryCode(status: number): string {
  return status === 429 ? 'HTTP429' : 'HTTP5xx';
}

export function describeItemError(item: BulkItem): string {
  const e = item.error;
  if (e === undefined) return `status ${item.status}`;
  if (typeof e === 'string') return `${item.status} ${e}`;
  const cause = e.caused_by ? ` (caused by ${e.caused_by.type}: ${e.caused_by.reason})` : '';
  return `${item.status} ${e.type}: ${e.reason}${cause}`;
}

/** One outcome per document, in request order. A response that does not match the request is thrown (the whole call is retried). */
export function bulkOutcomes(sent: number, response: unknown): DocumentOutcome[] {
  const items = (response as { items?: unknown })?.items;
  if (!Array.isArray(items) || items.length !== sent) {
    throw Object.assign(new Error(`_bulk answered ${Array.isArray(items) ? items.length : 'no'} items for ${sent} documents`), { name: 'InternalFailure' });
  }
  return items.map((entry: Record<string, BulkItem>) => {
    const item = entry.index ?? entry.create ?? Object.values(entry)[0] ?? {};
    const status = item.status ?? 0;
    if (status >= 200 && status < 300) return { kind: 'indexed' };
    if (status === 429 || status >= 500 || status === 0) return { kind: 'retry', code: retryCode(status), error: describeItemError(item) };
    return { kind: 'rejected', status, error: describeItemError(item) };
  });
}
