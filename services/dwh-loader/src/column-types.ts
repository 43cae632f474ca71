/**
 * Column types of warehouse tables. Types come from the `tideway.columns` header (PostgreSQL's
 * `format_type` spelling) or, without it, are inferred from JSON values. Only types on an
 * allowlist are used in DDL; anything else (enums, domains, PostGIS...) becomes `text`, so a
 * type string from data can never carry SQL.
 */

const SIMPLE_TYPES = new Set([
  'smallint',
  'integer',
  'bigint',
  'real',
  'double precision',
  'boolean',
  'text',
  'date',
  'uuid',
  'json',
  'jsonb',
  'bytea',
  'inet',
  'cidr',
  'macaddr',
  'interval',
  'oid',
  'xml',
  'numeric',
  'character varying',
  'character',
  'bit',
  'bit varying',
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'time with time zone',
]);

const ALIASES: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  varchar: 'character varying',
  char: 'character',
  bpchar: 'character',
  decimal: 'numeric',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  time: 'time without time zone',
  timetz: 'time with time zone',
};

/** `numeric(12,2)`, `character varying(40)`, `timestamp(3) with time zone`, each optionally `[]`. */
const TYPE_SHAPE = /^([a-z][a-z0-9 ]*?)(?:\((\d{1,4})(?:,(\d{1,4}))?\))?( with time zone| without time zone)?((?:\[\])*)$/;

/**
 * Normalises a PostgreSQL type name to one that is safe to put in DDL, or `text` when it is not
 * on the allowlist. Array types stay arrays of their (allowed) element type.
 */
export function warehouseType(pgType: string): string {
  const text = pgType
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*\)/g, ')');
  const m = TYPE_SHAPE.exec(text);
  if (!m) return 'text';
  const [, rawBase, p, s, zone, arrays] = m;
  const word = rawBase.trim();
  // Time types carry their precision after the first word: `timestamp(3) with time zone`.
  const timeWord = word === 'timestamptz' ? 'timestamp' : word === 'timetz' ? 'time' : word;
  if (timeWord === 'timestamp' || timeWord === 'time') {
    if (s !== undefined) return 'text';
    const tz = word.endsWith('tz') ? (zone ? undefined : ' with time zone') : (zone ?? ' without time zone');
    if (tz === undefined) return 'text';
    return `${timeWord}${p !== undefined ? `(${p})` : ''}${tz}${arrays}`;
  }
  if (zone) return 'text';
  const base = ALIASES[word] ?? word;
  if (!SIMPLE_TYPES.has(base)) return 'text';
  if (p === undefined) return `${base}${arrays}`;
  if (!['numeric', 'character varying', 'character', 'bit', 'bit varying'].includes(base)) return 'text';
  return `${base}(${p}${s !== undefined ? `,${s}` : ''})${arrays}`;
}

/** Type for a column known only from a JSON value. */
export function inferType(value: unknown): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'double precision';
  if (typeof value === 'object' && value !== null) return 'jsonb';
  return 'text';
}

export function isArrayType(type: string): boolean {
  return type.endsWith('[]');
}

export function isJsonType(type: string): boolean {
  return type === 'json' || type === 'jsonb';
}

function arrayElement(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return `{${v.map(arrayElement).join(',')}}`;
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The text form of a JSON value for a bind parameter of a column of `type`; PostgreSQL casts it
 * to the column type (and refuses it with a data error when it does not fit).
 */
export function toSqlText(value: unknown, type: string | undefined): string | null {
  if (value === null || value === undefined) return null;
  // Change events carry bytea as base64 (Debezium's default); PostgreSQL reads hex input.
  if (type === 'bytea' && typeof value === 'string') return `\\x${Buffer.from(value, 'base64').toString('hex')}`;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && type !== undefined && isArrayType(type)) return arrayElement(value);
  return JSON.stringify(value);
}
