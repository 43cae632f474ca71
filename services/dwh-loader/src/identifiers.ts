/**
 * SQL identifiers that come from data (table and column names in change events). They are
 * checked against a conservative pattern that Redshift accepts too, and always quoted, so a
 * crafted name is rejected before it reaches SQL — quoting alone would already make it inert.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
/** PostgreSQL (NAMEDATALEN-1) and Redshift both cut identifiers at 63 bytes; we reject instead. */
const MAX_IDENTIFIER_BYTES = 63;

/** Columns the loader adds to every warehouse table; source columns may not use these names. */
export const META = {
  lsn: '_tideway_lsn',
  op: '_tideway_op',
  sourceTsMs: '_tideway_source_ts_ms',
  eventTsMs: '_tideway_event_ts_ms',
  partition: '_tideway_partition',
  offset: '_tideway_offset',
  deleted: '_deleted',
} as const;

/** Returns undefined when `name` is a usable identifier, else why not. */
export function identifierProblem(name: string): string | undefined {
  if (!IDENTIFIER.test(name)) return `"${name.slice(0, 80)}" is not a valid identifier (letters, digits, _ and $; not starting with a digit)`;
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) return `"${name.slice(0, 80)}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`;
  return undefined;
}

export function isReservedColumn(name: string): boolean {
  return name.startsWith('_tideway_') || name === META.deleted;
}

/** Double-quotes an identifier (doubling embedded quotes). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
