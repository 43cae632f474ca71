/**
 * Builds the Kafka records of change events from decoded rows: the Debezium-compatible
 * envelope of `@tideway/runtime`'s change-event contract, the key (JSON of the primary-key
 * columns), the `tideway.columns` header and the topic. Pure.
 */
import { COLUMNS_HEADER, UNAVAILABLE_VALUE, type ChangeEvent, type ChangeOp, type ColumnInfo, type OutgoingMessage, type Row } from '@tideway/runtime';
import { lsnToNumber, type Lsn } from './lsn';
import type { TupleValue } from './pgoutput';
import { decodeValue, type Codec } from './value-codec';

export const CONNECTOR_NAME = 'tideway';

/** Debezium's headers on the two events a primary-key change becomes. */
export const OLD_KEY_HEADER = '__debezium.oldkey';
export const NEW_KEY_HEADER = '__debezium.newkey';

export interface CapturedColumn {
  name: string;
  codec: Codec;
  /** `format_type` of the column, e.g. `numeric(12,2)`. */
  type: string;
}

/** What the service knows about one captured table; built once per Relation message. */
export interface CapturedTable {
  relationId: number;
  schema: string;
  table: string;
  topic: string;
  columns: CapturedColumn[];
  /** Indexes into `columns` of the key columns, in key order; empty: the table has no key. */
  keyColumns: number[];
  /** The JSON `ColumnInfo[]` header, computed once. */
  columnsHeader: string;
  /** The same, encoded once: the Kafka client would otherwise encode it again for every record. */
  columnsHeaderBytes: Buffer;
}

export function makeCapturedTable(t: Omit<CapturedTable, 'columnsHeader' | 'columnsHeaderBytes'>): CapturedTable {
  const keySet = new Set(t.keyColumns);
  const info: ColumnInfo[] = t.columns.map((c, i) => ({ name: c.name, type: c.type, key: keySet.has(i) }));
  const columnsHeader = JSON.stringify(info);
  return { ...t, columnsHeader, columnsHeaderBytes: Buffer.from(columnsHeader, 'utf8') };
}

/** Kafka topic names allow [a-zA-Z0-9._-]; anything else becomes `_`, as Debezium does. */
export function topicFor(template: string, schema: string, table: string): string {
  return template
    .replace(/\{schema\}/g, schema)
    .replace(/\{table\}/g, table)
    .replace(/[^a-zA-Z0-9._-]/g, '_')
    .slice(0, 249);
}

/** Where a change happened; `lsn` is the change's WAL position (the consistent point for snapshot rows). */
export interface SourcePosition {
  db: string;
  lsn: Lsn;
  txId: number | null;
  commitTimeMs: number;
  snapshot: 'true' | 'last' | 'false';
}

export interface BuildOptions {
  tombstones: boolean;
  /** Epoch millis: the envelope's `ts_ms`. */
  nowMs: number;
  /** A value its codec could not read is kept as the server's text (nothing is lost); told here. */
  onUndecodable?(table: CapturedTable, column: string, err: unknown): void;
}

function decodeColumn(table: CapturedTable, i: number, text: string, opts?: BuildOptions): unknown {
  try {
    return decodeValue(text, table.columns[i].codec);
  } catch (err) {
    opts?.onUndecodable?.(table, table.columns[i].name, err);
    return text;
  }
}

export function rowFromTuple(table: CapturedTable, tuple: TupleValue[], opts?: BuildOptions): Row {
  const row: Row = {};
  const n = Math.min(tuple.length, table.columns.length);
  for (let i = 0; i < n; i++) {
    const col = table.columns[i];
    const v = tuple[i];
    row[col.name] = v.kind === 'null' ? null : v.kind === 'unchanged' ? UNAVAILABLE_VALUE : decodeColumn(table, i, v.text, opts);
  }
  return row;
}

/** Row from text values in column order (snapshot reads); null is SQL NULL. */
export function rowFromText(table: CapturedTable, values: Array<string | null>, opts?: BuildOptions): Row {
  const row: Row = {};
  for (let i = 0; i < table.columns.length; i++) {
    const v = values[i];
    row[table.columns[i].name] = v === null || v === undefined ? null : decodeColumn(table, i, v, opts);
  }
  return row;
}

/** The key's JSON text, with columns in key order so equal keys are equal bytes; null without a key. */
export function keyOf(table: CapturedTable, row: Row): string | null {
  if (table.keyColumns.length === 0) return null;
  const key: Row = {};
  for (const i of table.keyColumns) {
    const name = table.columns[i].name;
    key[name] = row[name] ?? null;
  }
  return JSON.stringify(key);
}

function keyColumnsOnly(table: CapturedTable, row: Row): Row {
  const out: Row = {};
  for (const i of table.keyColumns) out[table.columns[i].name] = row[table.columns[i].name] ?? null;
  return out;
}

function envelope(table: CapturedTable, op: ChangeOp, before: Row | null, after: Row | null, pos: SourcePosition, opts: BuildOptions): ChangeEvent {
  return {
    before,
    after,
    op,
    ts_ms: opts.nowMs,
    source: {
      connector: CONNECTOR_NAME,
      db: pos.db,
      schema: table.schema,
      table: table.table,
      lsn: lsnToNumber(pos.lsn),
      txId: pos.txId,
      ts_ms: pos.commitTimeMs,
      snapshot: pos.snapshot,
    },
  };
}

function record(table: CapturedTable, key: string | null, event: ChangeEvent, extraHeaders?: Record<string, string>): OutgoingMessage {
  const headers: Record<string, string | Buffer> = { [COLUMNS_HEADER]: table.columnsHeaderBytes };
  if (extraHeaders) Object.assign(headers, extraHeaders);
  return { topic: table.topic, key, value: JSON.stringify(event), headers };
}

function deleteRecords(
  table: CapturedTable,
  key: string | null,
  before: Row,
  pos: SourcePosition,
  opts: BuildOptions,
  extraHeaders?: Record<string, string>,
): OutgoingMessage[] {
  const out = [record(table, key, envelope(table, 'd', before, null, pos, opts), extraHeaders)];
  // A tombstone lets log compaction drop the key; a key-less record cannot be compacted anyway.
  if (opts.tombstones && key !== null) out.push({ topic: table.topic, key, value: null });
  return out;
}

export function insertRecords(table: CapturedTable, newTuple: TupleValue[], pos: SourcePosition, opts: BuildOptions): OutgoingMessage[] {
  const after = rowFromTuple(table, newTuple, opts);
  return [record(table, keyOf(table, after), envelope(table, 'c', null, after, pos, opts))];
}

export function snapshotRecord(table: CapturedTable, after: Row, pos: SourcePosition, opts: BuildOptions): OutgoingMessage {
  return record(table, keyOf(table, after), envelope(table, 'r', null, after, pos, opts));
}

/**
 * An update. `oldTuple` is the old key ('key', sent when the key changed) or the whole old row
 * ('full', REPLICA IDENTITY FULL). A changed key becomes a delete of the old key (plus its
 * tombstone) and a create of the new one, as Debezium does.
 */
export function updateRecords(
  table: CapturedTable,
  oldKind: 'key' | 'full' | null,
  oldTuple: TupleValue[] | null,
  newTuple: TupleValue[],
  pos: SourcePosition,
  opts: BuildOptions,
): OutgoingMessage[] {
  const after = rowFromTuple(table, newTuple, opts);
  const newKey = keyOf(table, after);
  const oldRow = oldTuple ? rowFromTuple(table, oldTuple, opts) : null;
  const before = oldKind === 'full' ? oldRow : null;
  const oldKey = oldRow ? keyOf(table, oldRow) : newKey;
  if (oldRow && oldKey !== newKey && table.keyColumns.length > 0) {
    const deletedBefore = oldKind === 'full' ? oldRow : keyColumnsOnly(table, oldRow);
    return [
      ...deleteRecords(table, oldKey, deletedBefore, pos, opts, newKey === null ? undefined : { [NEW_KEY_HEADER]: newKey }),
      record(table, newKey, envelope(table, 'c', null, after, pos, opts), oldKey === null ? undefined : { [OLD_KEY_HEADER]: oldKey }),
    ];
  }
  return [record(table, newKey, envelope(table, 'u', before, after, pos, opts))];
}

/** A delete: `before` holds the key columns, or the whole old row with REPLICA IDENTITY FULL. */
export function deleteRecordsFor(
  table: CapturedTable,
  oldKind: 'key' | 'full',
  oldTuple: TupleValue[],
  pos: SourcePosition,
  opts: BuildOptions,
): OutgoingMessage[] {
  const oldRow = rowFromTuple(table, oldTuple, opts);
  const before = oldKind === 'full' || table.keyColumns.length === 0 ? oldRow : keyColumnsOnly(table, oldRow);
  return deleteRecords(table, keyOf(table, oldRow), before, pos, opts);
}

/** A truncate has no key (as in Debezium): it goes to partition 0 of the table's topic. */
export function truncateRecord(table: CapturedTable, pos: SourcePosition, opts: BuildOptions): OutgoingMessage {
  return { ...record(table, null, envelope(table, 't', null, null, pos, opts)), partition: 0 };
}
