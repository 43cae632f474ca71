/**
 * The change-event contract between `cdc` (producer) and `dwh-loader` / `alerting`
 * (consumers): a Debezium-compatible envelope (as Debezium's JSON converter writes it with
 * `schemas.enable=false`), so existing Debezium consumers can read Tideway topics too.
 *
 * Key: JSON object of the primary-key columns, e.g. `{"policy_id":42}`.
 * Value: `ChangeEvent` below, or null (a tombstone after a delete).
 * Header `tideway.columns`: JSON `ColumnInfo[]` describing the row's columns, so consumers can
 * create typed tables without querying the source.
 */

export type ChangeOp = 'c' | 'u' | 'd' | 'r' | 't';
export const CHANGE_OPS: readonly ChangeOp[] = ['c', 'u', 'd', 'r', 't'];

/** Placeholder for an unchanged TOASTed value that the WAL did not carry (Debezium's default). */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

export const COLUMNS_HEADER = 'tideway.columns';

export interface ColumnInfo {
  name: string;
  /** PostgreSQL type as `format_type` prints it, e.g. `numeric(12,2)`, `timestamp with time zone`, `text[]`. */
  type: string;
  /** Part of the primary key (or replica identity). */
  key: boolean;
}

export interface ChangeEventSource {
  version?: string;
  connector: string;
  /** Logical server name (Debezium's topic prefix); optional. */
  name?: string;
  db: string;
  schema: string;
  table: string;
  /** WAL position of this change (for snapshot rows: the slot's consistent point). */
  lsn: number;
  txId: number | null;
  /** Commit time in the source database, epoch millis. */
  ts_ms: number;
  /** Debezium uses strings: "true" during the snapshot, "last" for its last row, "false" after. */
  snapshot: 'true' | 'last' | 'false';
}

export type Row = Record<string, unknown>;

export interface ChangeEvent {
  before: Row | null;
  after: Row | null;
  op: ChangeOp;
  /** When the connector processed the event, epoch millis. */
  ts_ms: number;
  source: ChangeEventSource;
}

/** Why a payload is not a usable change event (a bounded set: also a metric label). */
export type ChangeEventProblem = 'malformed_json' | 'not_an_envelope' | 'missing_field';

export class ChangeEventError extends Error {
  constructor(
    readonly problem: ChangeEventProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ChangeEventError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and checks a change-event value. Accepts Debezium's `{schema, payload}` wrapping too.
 * Throws ChangeEventError saying what is wrong.
 */
export function parseChangeEvent(value: Buffer | string): ChangeEvent {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new ChangeEventError('malformed_json', `value is not JSON: ${(err as Error).message}`);
  }
  if (isObject(doc) && isObject(doc.payload) && 'schema' in doc) doc = doc.payload;
  if (!isObject(doc)) throw new ChangeEventError('not_an_envelope', 'value is not a JSON object');
  const op = doc.op;
  if (typeof op !== 'string' || !(CHANGE_OPS as readonly string[]).includes(op))
    throw new ChangeEventError('missing_field', `"op" must be one of ${CHANGE_OPS.join(', ')}`);
  const source = doc.source;
  if (!isObject(source)) throw new ChangeEventError('missing_field', '"source" is missing');
  for (const f of ['schema', 'table'] as const) {
    if (typeof source[f] !== 'string' || source[f] === '') throw new ChangeEventError('missing_field', `"source.${f}" is missing`);
  }
  const lsn = typeof source.lsn === 'string' ? Number(source.lsn) : source.lsn;
  if (typeof lsn !== 'number' || !Number.isFinite(lsn)) throw new ChangeEventError('missing_field', '"source.lsn" is missing');
  const before = doc.before ?? null;
  const after = doc.after ?? null;
  if (before !== null && !isObject(before)) throw new ChangeEventError('not_an_envelope', '"before" must be an object or null');
  if (after !== null && !isObject(after)) throw new ChangeEventError('not_an_envelope', '"after" must be an object or null');
  if ((op === 'c' || op === 'u' || op === 'r') && after === null) throw new ChangeEventError('missing_field', `"after" is required for op "${op}"`);
  return {
    before,
    after,
    op: op as ChangeOp,
    ts_ms: typeof doc.ts_ms === 'number' ? doc.ts_ms : 0,
    source: { ...(source as unknown as ChangeEventSource), lsn },
  };
}

/** Reads the `tideway.columns` header, or undefined when absent or unreadable. */
export function parseColumnsHeader(header: Buffer | undefined): ColumnInfo[] | undefined {
  if (!header) return undefined;
  try {
    const v: unknown = JSON.parse(header.toString('utf8'));
    if (!Array.isArray(v)) return undefined;
    return v
      .filter((c): c is ColumnInfo => isObject(c) && typeof c.name === 'string' && typeof c.type === 'string')
      .map((c) => ({ name: c.name, type: c.type, key: Boolean(c.key) }));
  } catch {
    return undefined;
  }
}
