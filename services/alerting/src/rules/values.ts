/**
 * How record values become CEL inputs and numbers. CDC writes PostgreSQL numerics as decimal
 * strings ("1234.56") so that no precision is lost on the wire; rules compare them with numbers,
 * so a string that is exactly a decimal number is presented to CEL as a double. Strings with a
 * leading zero ("007", postal codes) or anything else stay strings.
 */

const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/** A decimal string as a number, or the value unchanged. */
export function numericOrSelf(v: unknown): unknown {
  if (typeof v !== 'string' || v.length === 0 || v.length > 40) return v;
  // Most strings start with a letter: skip the regular expression for them.
  const c = v.charCodeAt(0);
  if (c !== 45 /* - */ && (c < 48 || c > 57)) return v;
  return DECIMAL.test(v) ? Number(v) : v;
}

/** A number for aggregates: numbers and decimal strings; anything else is undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  const n = numericOrSelf(v);
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/**
 * Parsed JSON with decimal strings turned into numbers (CEL input). Objects and arrays are copied
 * where something in them changes and shared otherwise: neither is ever modified.
 */
export function toCelInput(v: unknown): unknown {
  if (typeof v === 'string') return numericOrSelf(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = toCelInput(v[i]);
      if (x !== v[i] && !out) out = v.slice(0, i);
      if (out) out.push(x);
    }
    return out ?? v;
  }
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const x = toCelInput(obj[k]);
    if (x !== obj[k] && !out) {
      out = {};
      for (const k2 in obj) {
        if (k2 === k) break;
        if (Object.hasOwn(obj, k2)) out[k2] = obj[k2];
      }
    }
    if (out) out[k] = x;
  }
  return out ?? obj;
}

/**
 * Event time in epoch millis from an ISO-8601 string or an epoch number. Numbers above 1e14
 * are epoch micros (Debezium's timestamp encoding) and above 1e17 epoch nanos. Undefined when
 * the value is not a time.
 */
export function parseEventTime(v: unknown): number | undefined {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const num = numericOrSelf(v);
    if (typeof num === 'number') n = num;
    else {
      const ms = Date.parse(v);
      return Number.isFinite(ms) ? ms : undefined;
    }
  }
  if (n === undefined || !Number.isFinite(n) || n < 0) return undefined;
  if (n >= 1e17) return Math.floor(n / 1e6);
  if (n >= 1e14) return Math.floor(n / 1e3);
  return Math.floor(n);
}

/** A copy of `obj` with `value` at a dotted path; only the objects along the path are copied. */
export function withValueAt(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  const copy = { ...obj };
  if (rest.length === 0) copy[head] = value;
  else {
    const child = obj[head];
    copy[head] = withValueAt(
      child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {},
      rest.join('.'),
      value,
    );
  }
  return copy;
}

/** A group key as a string: strings as they are, numbers without trailing zeros, others as JSON. */
export function keyString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    const n = numericOrSelf(v);
    return typeof n === 'number' ? String(n) : v;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}
