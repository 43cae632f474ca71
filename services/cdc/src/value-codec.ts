/**
 * Turns PostgreSQL's text output of a value into the JSON value of a change event.
 *
 * Sessions are opened with DateStyle=ISO, TimeZone=UTC, bytea_output=hex and
 * extra_float_digits=3 (see `SESSION_OPTIONS`), so the text forms parsed here are fixed.
 * Types without a dedicated codec stay text; `known: false` marks those the operator should
 * hear about (logged once per column).
 */

export type Codec =
  | { kind: 'int' }
  | { kind: 'int8' }
  | { kind: 'float' }
  | { kind: 'numeric' }
  | { kind: 'bool' }
  | { kind: 'json' }
  | { kind: 'bytea' }
  | { kind: 'timestamptz' }
  | { kind: 'timestamp' }
  | { kind: 'date' }
  | { kind: 'text'; known: boolean }
  | { kind: 'array'; element: Codec; delimiter: string };

/** Startup options for every connection whose text output we parse. */
export const SESSION_OPTIONS = '-c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex -c extra_float_digits=3 -c IntervalStyle=iso_8601';

/** pg_type facts needed to choose a codec. */
export interface PgTypeRow {
  oid: number;
  name: string;
  /** b base, c composite, d domain, e enum, p pseudo, r range, m multirange */
  typtype: string;
  /** Element type of an array type, else 0. */
  elementOid: number;
  /** Base type of a domain, else 0. */
  baseOid: number;
  category: string;
  delimiter: string;
}

const BY_NAME: Record<string, Codec> = {
  int2: { kind: 'int' },
  int4: { kind: 'int' },
  oid: { kind: 'int' },
  int8: { kind: 'int8' },
  float4: { kind: 'float' },
  float8: { kind: 'float' },
  numeric: { kind: 'numeric' },
  bool: { kind: 'bool' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  bytea: { kind: 'bytea' },
  timestamptz: { kind: 'timestamptz' },
  timestamp: { kind: 'timestamp' },
  date: { kind: 'date' },
};

/** Types that are best carried as their text form: no warning for these. */
const TEXT_TYPES = new Set([
  'text',
  'varchar',
  'bpchar',
  'char',
  'name',
  'uuid',
  'citext',
  'time',
  'timetz',
  'interval',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'money',
  'xml',
  'bit',
  'varbit',
  'tsvector',
  'tsquery',
  'pg_lsn',
  'xid',
  'xid8',
  'regclass',
  'regtype',
]);

/**
 * Chooses the codec of a type; `lookup` gives other pg_type rows (element, domain base).
 * Unknown element or base types fall back to text.
 */
export function codecForType(row: PgTypeRow | undefined, lookup: (oid: number) => PgTypeRow | undefined, depth = 0): Codec {
  if (!row || depth > 8) return { kind: 'text', known: false };
  if (row.typtype === 'd') return codecForType(lookup(row.baseOid), lookup, depth + 1);
  if (row.typtype === 'e') return { kind: 'text', known: true };
  if (row.category === 'A' && row.elementOid !== 0) {
    const elementRow = lookup(row.elementOid);
    return { kind: 'array', element: codecForType(elementRow, lookup, depth + 1), delimiter: elementRow?.delimiter ?? ',' };
  }
  const byName = BY_NAME[row.name];
  if (byName) return byName;
  return { kind: 'text', known: TEXT_TYPES.has(row.name) };
}

/** True when the codec (or its array element) is an unknown-type text fallback. */
export function isFallback(codec: Codec): boolean {
  if (codec.kind === 'array') return isFallback(codec.element);
  return codec.kind === 'text' && !codec.known;
}

export class ValueFormatError extends Error {
  override name = 'ValueFormatError';
}

export function decodeValue(text: string, codec: Codec): unknown {
  switch (codec.kind) {
    case 'int':
      return Number(text);
    case 'int8': {
      // JSON numbers beyond 2^53 are rounded by most readers; those few values stay exact as strings.
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'float': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text; // NaN, Infinity, -Infinity
    }
    case 'numeric':
      return text; // exact: never through a float
    case 'bool':
      return text === 't' || text === 'true';
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        throw new ValueFormatError(`invalid JSON text from the server: ${text.slice(0, 80)}`);
      }
    case 'bytea':
      return decodeByteaHex(text).toString('base64');
    case 'timestamptz':
      return isoTimestamp(text, true);
    case 'timestamp':
      return isoTimestamp(text, false);
    case 'date':
      return text; // ISO DateStyle: YYYY-MM-DD (or infinity / BC forms, passed through)
    case 'text':
      return text;
    case 'array':
      return parseArrayLiteral(text, codec.delimiter, (el) => decodeValue(el, codec.element));
  }
}

export function decodeByteaHex(text: string): Buffer {
  if (!text.startsWith('\\x')) throw new ValueFormatError('bytea value is not in hex format (bytea_output=hex)');
  return Buffer.from(text.slice(2), 'hex');
}

const TS_RE = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/**
 * ISO-8601 with zone, keeping microseconds: `2024-03-01T12:00:00.123456Z`. Values with an
 * offset are converted to UTC. A timestamp without time zone is rendered as UTC (`Z`): the
 * column type in `tideway.columns` says it had no zone. infinity and BC dates pass through.
 */
export function isoTimestamp(text: string, withZone: boolean): string {
  const m = TS_RE.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  const fraction = frac ?? '';
  if (!sign || (Number(oh) === 0 && Number(om ?? 0) === 0 && Number(os ?? 0) === 0)) {
    if (withZone && !sign) return text; // unexpected: a timestamptz always carries an offset
    return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}Z`;
  }
  const offsetSec = (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0)) * (sign === '+' ? 1 : -1);
  const utcMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetSec * 1000;
  const iso = new Date(utcMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}${fraction}Z`;
}

/**
 * Parses a PostgreSQL array literal (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`,
 * `[0:1]={1,2}`) into nested JS arrays; elements go through `element`.
 */
export function parseArrayLiteral(text: string, delimiter: string, element: (text: string) => unknown): unknown[] {
  let i = 0;
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq < 0) throw new ValueFormatError(`malformed array literal: ${text.slice(0, 80)}`);
    i = eq + 1;
  }
  const parse = (): unknown[] => {
    if (text[i] !== '{') throw new ValueFormatError(`malformed array literal: ${text.slice(0, 80)}`);
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') out.push(parse());
      else if (text[i] === '"') {
        i++;
        let s = '';
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i++];
        }
        if (text[i] !== '"') throw new ValueFormatError(`unterminated quoted array element: ${text.slice(0, 80)}`);
        i++;
        out.push(element(s));
      } else {
        const start = i;
        while (i < text.length && text[i] !== delimiter && text[i] !== '}') i++;
        const raw = text.slice(start, i).trim();
        out.push(raw.toUpperCase() === 'NULL' ? null : element(raw));
      }
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      throw new ValueFormatError(`malformed array literal: ${text.slice(0, 80)}`);
    }
  };
  return parse();
}
