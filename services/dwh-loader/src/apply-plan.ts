/**
 * Turns a batch of decoded changes into SQL statements (pure). The SQL stays inside the subset
 * Amazon Redshift accepts where practical — multi-row INSERT, DELETE with OR-ed key predicates,
 * no MERGE — except `INSERT … ON CONFLICT … DO UPDATE … WHERE`, which Redshift lacks (see
 * docs/dwh-loader.md for the staging-table equivalent).
 *
 * Upsert mode keeps one row per key: within a batch only the newest change per key (by source
 * LSN, then Kafka offset) is applied, and in the warehouse a row is only overwritten by a change
 * whose LSN is not older than the row's `_tideway_lsn`.
 */
import type { ColumnSpec, DecodedChange, LoadMode } from './decode';
import { toSqlText } from './column-types';
import { META, qualified, quoteIdent } from './identifiers';

export type DeleteMode = 'hard' | 'soft';

export interface Statement {
  text: string;
  values: Array<string | null>;
  /** Changes this statement writes, for metrics and for finding a poison change. */
  changes: DecodedChange[];
}

export interface PlanOptions {
  schema: string;
  mode: LoadMode;
  deleteMode: DeleteMode;
  /** Warehouse column type of `table.column`, to encode values (arrays vs JSON). */
  columnType(table: string, column: string): string | undefined;
}

/** PostgreSQL allows 65535 bind parameters per statement; stay well below. */
const MAX_PARAMS = 30_000;

export function keyOf(change: DecodedChange): string {
  return JSON.stringify(change.keyColumns.map((k) => change.row?.[k] ?? null));
}

function newer(a: DecodedChange, b: DecodedChange): boolean {
  if (a.lsn !== b.lsn) return a.lsn > b.lsn;
  return BigInt(a.offset) > BigInt(b.offset);
}

const isWrite = (c: DecodedChange) => c.op === 'c' || c.op === 'u' || c.op === 'r';

/**
 * The change that survives when `next` supersedes `prev` (same key, same batch). It keeps what
 * applying both in turn would have left, so the result does not depend on where batches are cut:
 * unchanged-TOAST columns of `next` take `prev`'s value, and a soft delete keeps the values
 * `prev` wrote.
 */
function supersede(next: DecodedChange, prev: DecodedChange, softDelete: boolean): DecodedChange {
  if (!isWrite(prev) || !prev.row || !next.row) return next;
  if (isWrite(next) && next.unavailable.length > 0) {
    const fill = next.unavailable.filter((col) => col in prev.row! && !prev.unavailable.includes(col));
    if (fill.length === 0) return next;
    return {
      ...next,
      row: { ...next.row, ...Object.fromEntries(fill.map((col) => [col, prev.row![col]])) },
      unavailable: next.unavailable.filter((col) => !fill.includes(col)),
    };
  }
  if (next.op === 'd' && softDelete) {
    const have = new Set(next.columns.map((c) => c.name));
    const carried = prev.columns.filter((c) => !have.has(c.name) && !prev.unavailable.includes(c.name));
    return { ...next, row: { ...prev.row, ...next.row }, columns: [...next.columns, ...carried] };
  }
  return next;
}

/**
 * Splits changes (in offset order) into segments at truncates, and keeps the newest change per
 * (table, key) within each segment. A truncate is its own segment so rows before it are gone and
 * rows after it survive. With `softDelete`, a delete keeps the values of the write it supersedes.
 */
export function collapseByKey(changes: DecodedChange[], softDelete = false): DecodedChange[][] {
  const segments: DecodedChange[][] = [];
  let current = new Map<string, DecodedChange>();
  const flush = () => {
    if (current.size > 0) segments.push([...current.values()]);
    current = new Map();
  };
  for (const c of changes) {
    if (c.op === 't') {
      flush();
      segments.push([c]);
      continue;
    }
    const id = `${c.table}\u0000${keyOf(c)}`;
    const prev = current.get(id);
    if (!prev) current.set(id, c);
    else if (newer(c, prev)) current.set(id, supersede(c, prev, softDelete));
  }
  flush();
  return segments;
}

function writtenColumns(c: DecodedChange): ColumnSpec[] {
  return c.columns.filter((col) => !c.unavailable.includes(col.name));
}

function groupBy<T>(items: T[], keyFn: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = keyFn(it);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(it);
  }
  return out;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface InsertShape {
  table: string;
  columns: string[];
  /** Values of one change, in `columns` order. */
  rowValues(c: DecodedChange): Array<string | null>;
}

function multiRowInsert(schema: string, shape: InsertShape, changes: DecodedChange[], suffix: (alias: string) => string): Statement[] {
  const perRow = shape.columns.length;
  const out: Statement[] = [];
  for (const part of chunk(changes, Math.max(1, Math.floor(MAX_PARAMS / perRow)))) {
    const values: Array<string | null> = [];
    const tuples: string[] = [];
    for (const c of part) {
      const start = values.length;
      values.push(...shape.rowValues(c));
      tuples.push(`(${shape.columns.map((_, i) => `$${start + i + 1}`).join(',')})`);
    }
    const cols = shape.columns.map(quoteIdent).join(',');
    out.push({ text: `INSERT INTO ${qualified(schema, shape.table)} AS t (${cols}) VALUES ${tuples.join(',')}${suffix('t')}`, values, changes: part });
  }
  return out;
}

function upsertStatements(opts: PlanOptions, table: string, changes: DecodedChange[]): Statement[] {
  const soft = opts.deleteMode === 'soft';
  const out: Statement[] = [];
  const groups = groupBy(
    changes,
    (c) =>
      `${c.op === 'd' ? 'd' : 'w'}|${writtenColumns(c)
        .map((col) => col.name)
        .join(',')}`,
  );
  for (const group of groups.values()) {
    const sample = group[0];
    const data = writtenColumns(sample).map((col) => col.name);
    const isDelete = sample.op === 'd';
    if (isDelete && !soft) {
      out.push(...hardDeletes(opts, table, group));
      continue;
    }
    const meta = [META.lsn, META.op, META.sourceTsMs, META.eventTsMs, ...(soft ? [META.deleted] : [])];
    const columns = [...data, ...meta];
    const keys = sample.keyColumns;
    const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${quoteIdent(c)}=EXCLUDED.${quoteIdent(c)}`);
    const shape: InsertShape = {
      table,
      columns,
      rowValues: (c) => [
        ...data.map((name) => toSqlText(c.row?.[name], opts.columnType(table, name))),
        String(c.lsn),
        c.op,
        String(c.sourceTsMs),
        String(c.eventTsMs),
        ...(soft ? [String(isDelete)] : []),
      ],
    };
    const conflict = keys.map(quoteIdent).join(',');
    out.push(
      ...multiRowInsert(
        opts.schema,
        shape,
        group,
        (t) => ` ON CONFLICT (${conflict}) DO UPDATE SET ${updates.join(',')} WHERE ${t}.${quoteIdent(META.lsn)} <= EXCLUDED.${quoteIdent(META.lsn)}`,
      ),
    );
  }
  return out;
}

function hardDeletes(opts: PlanOptions, table: string, changes: DecodedChange[]): Statement[] {
  const keys = changes[0].keyColumns;
  const out: Statement[] = [];
  // OR-ed key predicates stay within what Redshift accepts; 500 keeps plans cheap.
  for (const part of chunk(changes, 500)) {
    const values: Array<string | null> = [];
    const preds = part.map((c) => {
      const conds = keys.map((k) => {
        values.push(toSqlText(c.row?.[k], opts.columnType(table, k)));
        return `${quoteIdent(k)}=$${values.length}`;
      });
      values.push(String(c.lsn));
      conds.push(`${quoteIdent(META.lsn)}<=$${values.length}`);
      return `(${conds.join(' AND ')})`;
    });
    out.push({ text: `DELETE FROM ${qualified(opts.schema, table)} WHERE ${preds.join(' OR ')}`, values, changes: part });
  }
  return out;
}

function truncateStatement(opts: PlanOptions, c: DecodedChange): Statement {
  const t = qualified(opts.schema, c.table);
  const lsn = quoteIdent(META.lsn);
  if (opts.deleteMode === 'soft') {
    return {
      text: `UPDATE ${t} SET ${quoteIdent(META.deleted)}=true,${quoteIdent(META.op)}='t',${lsn}=$1 WHERE ${lsn}<=$1`,
      values: [String(c.lsn)],
      changes: [c],
    };
  }
  return { text: `DELETE FROM ${t} WHERE ${lsn}<=$1`, values: [String(c.lsn)], changes: [c] };
}

function historyStatements(opts: PlanOptions, changes: DecodedChange[]): Statement[] {
  const out: Statement[] = [];
  const groups = groupBy(
    changes,
    (c) =>
      `${c.table}|${writtenColumns(c)
        .map((col) => col.name)
        .join(',')}`,
  );
  for (const group of groups.values()) {
    const sample = group[0];
    const data = writtenColumns(sample).map((col) => col.name);
    const shape: InsertShape = {
      table: sample.table,
      columns: [...data, META.op, META.lsn, META.sourceTsMs, META.eventTsMs, META.partition, META.offset],
      rowValues: (c) => [
        ...data.map((name) => toSqlText(c.row?.[name], opts.columnType(sample.table, name))),
        c.op,
        String(c.lsn),
        String(c.sourceTsMs),
        String(c.eventTsMs),
        String(c.partition),
        c.offset,
      ],
    };
    out.push(...multiRowInsert(opts.schema, shape, group, () => ''));
  }
  return out;
}

/** Statements applying `changes` (offset order), in the order they must run. */
export function planStatements(opts: PlanOptions, changes: DecodedChange[]): Statement[] {
  if (opts.mode === 'history') return historyStatements(opts, changes);
  const out: Statement[] = [];
  for (const segment of collapseByKey(changes, opts.deleteMode === 'soft')) {
    if (segment.length === 1 && segment[0].op === 't') {
      out.push(truncateStatement(opts, segment[0]));
      continue;
    }
    for (const [table, tableChanges] of groupBy(segment, (c) => c.table)) out.push(...upsertStatements(opts, table, tableChanges));
  }
  return out;
}

/** Columns a table needs for `changes`, key columns first (first seen type wins). */
export function neededColumns(changes: DecodedChange[]): { keyColumns: string[]; columns: ColumnSpec[] } {
  const byName = new Map<string, ColumnSpec>();
  let keyColumns: string[] = [];
  for (const c of changes) {
    if (keyColumns.length === 0 && c.keyColumns.length > 0) keyColumns = c.keyColumns;
    for (const col of c.columns) if (!byName.has(col.name)) byName.set(col.name, col);
  }
  return { keyColumns, columns: [...byName.values()] };
}

/** Columns the loader adds to every table in a mode, with their types. */
export function metaColumns(mode: LoadMode, deleteMode: DeleteMode): ColumnSpec[] {
  const spec = (name: string, type: string): ColumnSpec => ({ name, type, key: false });
  const common = [spec(META.op, 'character(1)'), spec(META.lsn, 'bigint'), spec(META.sourceTsMs, 'bigint'), spec(META.eventTsMs, 'bigint')];
  if (mode === 'history') return [...common, spec(META.partition, 'integer'), spec(META.offset, 'bigint')];
  return deleteMode === 'soft' ? [...common, spec(META.deleted, 'boolean')] : common;
}

/**
 * DDL that makes `table` able to take `changes`: CREATE TABLE when `existing` is undefined,
 * else ALTER TABLE … ADD COLUMN for each missing column (one statement each, as Redshift requires).
 */
export function planDdl(
  opts: { schema: string; mode: LoadMode; deleteMode: DeleteMode },
  table: string,
  existing: ReadonlyMap<string, string> | undefined,
  changes: DecodedChange[],
): string[] {
  const { keyColumns, columns } = neededColumns(changes);
  const all = [...columns, ...metaColumns(opts.mode, opts.deleteMode)];
  const t = qualified(opts.schema, table);
  if (!existing) {
    const defs = all.map((c) => {
      const notNull = (opts.mode === 'upsert' && keyColumns.includes(c.name)) || c.name === META.lsn;
      const dflt = c.name === META.deleted ? ' DEFAULT false' : '';
      return `${quoteIdent(c.name)} ${c.type}${notNull ? ' NOT NULL' : ''}${dflt}`;
    });
    if (opts.mode === 'upsert' && keyColumns.length > 0) defs.push(`PRIMARY KEY (${keyColumns.map(quoteIdent).join(',')})`);
    return [`CREATE TABLE IF NOT EXISTS ${t} (${defs.join(', ')})`];
  }
  return all
    .filter((c) => !existing.has(c.name))
    .map((c) => `ALTER TABLE ${t} ADD COLUMN ${quoteIdent(c.name)} ${c.type}${c.name === META.deleted ? ' DEFAULT false' : ''}`);
}
