/**
 * From a Kafka record to a change the warehouse can apply, or a rejection saying why not.
 * Pure: no I/O, so every rule about what is acceptable is unit-tested here.
 */
import {
  ChangeEventError,
  COLUMNS_HEADER,
  parseChangeEvent,
  parseColumnsHeader,
  UNAVAILABLE_VALUE,
  type ChangeOp,
  type IncomingMessage,
  type Row,
} from '@tideway/runtime';
import { inferType, warehouseType } from './column-types';
import { RejectedRecord } from './errors';
import { identifierProblem, isReservedColumn } from './identifiers';

export type LoadMode = 'upsert' | 'history';
export type TableNaming = 'table' | 'schema_table';

export interface ColumnSpec {
  name: string;
  /** Warehouse type (allowlisted, see column-types.ts). */
  type: string;
  key: boolean;
}

export interface DecodedChange {
  /** Kafka offset of the record. */
  offset: string;
  partition: number;
  table: string;
  op: ChangeOp;
  lsn: number;
  sourceTsMs: number;
  eventTsMs: number;
  /** Primary-key column names, in declaration order (may be empty in history mode and for truncates). */
  keyColumns: string[];
  /** Row image to write: `after` for c/u/r, `before` (or the key) for d; null for t. */
  row: Row | null;
  /** Columns of the row with their warehouse types, key columns first. */
  columns: ColumnSpec[];
  /** Columns whose value is the unchanged-TOAST marker: keep the warehouse's value. */
  unavailable: string[];
}

export type Decoded = { kind: 'change'; change: DecodedChange } | { kind: 'skip' } | { kind: 'reject'; error: RejectedRecord };

export interface DecodeOptions {
  mode: LoadMode;
  tableNaming: TableNaming;
  /** With soft deletes a delete keeps its whole `before` image; with hard deletes only the key matters. */
  softDelete: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseKey(key: Buffer | null): Row | undefined {
  if (!key) return undefined;
  try {
    const v: unknown = JSON.parse(key.toString('utf8'));
    if (isObject(v) && isObject(v.payload) && 'schema' in v) return v.payload;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Names already found valid: the same few table and column names repeat in every record. */
const validNames = new Set<string>();

function checkName(name: string, what: string): void {
  if (validNames.has(name)) return;
  const problem = identifierProblem(name);
  if (problem) throw new RejectedRecord('invalid_identifier', `${what} ${problem}`);
  if (validNames.size > 10_000) validNames.clear();
  validNames.add(name);
}

interface HeaderFacts {
  types: Map<string, string>;
  keys: string[];
}

/** Parsed `tideway.columns` headers by their text: a table's header is the same on every record. */
const headerCache = new Map<string, HeaderFacts | undefined>();

function headerFacts(raw: Buffer | undefined): HeaderFacts | undefined {
  if (!raw) return undefined;
  const text = raw.toString('utf8');
  if (headerCache.has(text)) return headerCache.get(text);
  const header = parseColumnsHeader(raw);
  const facts = header && { types: new Map(header.map((c) => [c.name, warehouseType(c.type)])), keys: header.filter((c) => c.key).map((c) => c.name) };
  if (headerCache.size > 1_000) headerCache.clear();
  headerCache.set(text, facts);
  return facts;
}

export function targetTableName(sourceSchema: string, sourceTable: string, naming: TableNaming): string {
  return naming === 'schema_table' ? `${sourceSchema}_${sourceTable}` : sourceTable;
}

function decodeOrThrow(message: IncomingMessage, opts: DecodeOptions): DecodedChange | undefined {
  // A null value is the tombstone that follows a delete: the delete itself carried the change.
  if (message.value === null || message.value.length === 0) return undefined;
  let event;
  try {
    event = parseChangeEvent(message.value);
  } catch (err) {
    if (err instanceof ChangeEventError) throw new RejectedRecord(err.problem, err.message);
    throw err;
  }
  checkName(event.source.schema, 'source.schema');
  checkName(event.source.table, 'source.table');
  const table = targetTableName(event.source.schema, event.source.table, opts.tableNaming);
  checkName(table, 'table name');

  const header = headerFacts(message.headers[COLUMNS_HEADER]);
  const recordKey = parseKey(message.key);
  const headerKeys = header?.keys ?? [];
  const keyColumns = headerKeys.length > 0 ? headerKeys : recordKey ? Object.keys(recordKey) : [];

  let row: Row | null;
  if (event.op === 't') row = null;
  else if (event.op === 'd') {
    row = event.before ?? recordKey ?? null;
    if (row === null && opts.mode === 'upsert') throw new RejectedRecord('missing_key', 'delete without "before" nor a record key');
  } else row = event.after;

  const types = header?.types ?? new Map<string, string>();
  const columns: ColumnSpec[] = [];
  const unavailable: string[] = [];
  if (row) {
    // A hard delete needs only what identifies the row; history and soft deletes keep `before`.
    const keyOnly = event.op === 'd' && opts.mode === 'upsert' && !opts.softDelete;
    const names = keyOnly ? keyColumns : Object.keys(row);
    for (const name of names) {
      checkName(name, 'column');
      if (isReservedColumn(name)) throw new RejectedRecord('reserved_column', `column "${name}" uses a name reserved for the loader's own columns`);
      const value = name in row ? row[name] : recordKey?.[name];
      if (value === UNAVAILABLE_VALUE) unavailable.push(name);
      columns.push({ name, type: types.get(name) ?? inferType(value), key: keyColumns.includes(name) });
    }
    if (keyOnly) row = Object.fromEntries(keyColumns.map((k) => [k, k in row! ? row![k] : recordKey?.[k]]));
  }

  if (opts.mode === 'upsert' && event.op !== 't') {
    if (keyColumns.length === 0)
      throw new RejectedRecord('missing_key', `no primary key for ${table}: neither the ${COLUMNS_HEADER} header nor the record key names one`);
    for (const k of keyColumns) {
      checkName(k, 'key column');
      const v = row?.[k] ?? recordKey?.[k];
      if (v === undefined || v === null || v === UNAVAILABLE_VALUE) throw new RejectedRecord('missing_key', `key column "${k}" has no value`);
      if (row && !(k in row)) {
        row[k] = v;
        columns.unshift({ name: k, type: types.get(k) ?? inferType(v), key: true });
      }
    }
  }
  columns.sort((a, b) => Number(b.key) - Number(a.key));

  return {
    offset: message.offset,
    partition: message.partition,
    table,
    op: event.op,
    lsn: event.source.lsn,
    sourceTsMs: typeof event.source.ts_ms === 'number' ? event.source.ts_ms : 0,
    eventTsMs: event.ts_ms,
    keyColumns,
    row,
    columns,
    unavailable,
  };
}

export function decodeRecord(message: IncomingMessage, opts: DecodeOptions): Decoded {
  try {
    const change = decodeOrThrow(message, opts);
    return change ? { kind: 'change', change } : { kind: 'skip' };
  } catch (err) {
    if (err instanceof RejectedRecord) return { kind: 'reject', error: err };
    throw err;
  }
}
