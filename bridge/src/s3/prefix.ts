/**
 * Expands Firehose S3 prefix expressions for one record:
 *   !{timestamp:yyyy} … (Java DateTimeFormatter letters yyyy yy MM dd HH mm ss SSS, UTC, of the
 *   Kafka record's timestamp — so a replay puts a record under the same prefix),
 *   !{field:a.b} / !{partitionKeyFromQuery:a.b} (a field of the JSON record),
 *   !{firehose:random-string} (derived from the object's Kafka coordinates: stable on replay),
 *   !{firehose:error-output-type} (error prefix only).
 */
import { createHash } from 'node:crypto';
import { getPath } from '@tideway/runtime';

export interface PrefixContext {
  timestamp: number;
  /** The record parsed as JSON, when the prefix needs a field (lazily). */
  record: () => unknown;
  /** Seed for !{firehose:random-string}. */
  randomSeed: string;
  errorOutputType?: string;
}

export class PrefixExpansionError extends Error {}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function formatTimestamp(ms: number, pattern: string): string {
  const d = new Date(ms);
  return pattern.replace(/yyyy|yy|MM|dd|HH|mm|ss|SSS/g, (t) => {
    switch (t) {
      case 'yyyy':
        return pad(d.getUTCFullYear(), 4);
      case 'yy':
        return pad(d.getUTCFullYear() % 100, 2);
      case 'MM':
        return pad(d.getUTCMonth() + 1, 2);
      case 'dd':
        return pad(d.getUTCDate(), 2);
      case 'HH':
        return pad(d.getUTCHours(), 2);
      case 'mm':
        return pad(d.getUTCMinutes(), 2);
      case 'ss':
        return pad(d.getUTCSeconds(), 2);
      default:
        return pad(d.getUTCMilliseconds(), 3);
    }
  });
}

/** Field values become one safe path segment. */
function keySegment(v: string): string {
  return v.replace(/[^A-Za-z0-9._=-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`));
}

export function expandPrefix(prefix: string, ctx: PrefixContext): string {
  return prefix.replace(/!\{([^}]*)\}/g, (_m, expr: string) => {
    const i = expr.indexOf(':');
    const ns = expr.slice(0, i);
    const arg = expr.slice(i + 1);
    if (ns === 'timestamp') return formatTimestamp(ctx.timestamp, arg);
    if (ns === 'field' || ns === 'partitionKeyFromQuery') {
      const v = getPath(ctx.record(), arg);
      if (v === undefined || v === null || v === '' || typeof v === 'object')
        throw new PrefixExpansionError(`record has no scalar field "${arg}" for the prefix`);
      return keySegment(String(v));
    }
    if (ns === 'firehose' && arg === 'random-string') return createHash('sha256').update(ctx.randomSeed).digest('hex').slice(0, 11);
    if (ns === 'firehose' && arg === 'error-output-type') return ctx.errorOutputType ?? 'processing-failed';
    throw new PrefixExpansionError(`unsupported expression !{${expr}}`);
  });
}

/**
 * How long an expansion of `prefix` stays the same, in ms of record time: records whose timestamps
 * fall in the same period (counted from the epoch, UTC) expand alike when nothing else varies.
 * 0 when the prefix reads the record itself (no sharing); Infinity when it reads no time.
 * A UTC day is always 86,400,000 ms here (epoch time has no leap seconds), and a day never spans
 * two months or years, so day granularity is safe for dd, MM, yy and yyyy.
 */
export function prefixPeriodMs(prefix: string): number {
  let period = Infinity;
  for (const m of prefix.matchAll(/!\{([^}]*)\}/g)) {
    const expr = m[1];
    const ns = expr.slice(0, expr.indexOf(':'));
    if (ns === 'field' || ns === 'partitionKeyFromQuery') return 0;
    if (ns !== 'timestamp') continue;
    const pattern = expr.slice(expr.indexOf(':') + 1);
    const unit = /SSS/.test(pattern) ? 1 : /ss/.test(pattern) ? 1000 : /mm/.test(pattern) ? 60_000 : /HH/.test(pattern) ? 3_600_000 : 86_400_000;
    period = Math.min(period, unit);
  }
  return period;
}

/** Object name of one flushed buffer: derived from Kafka coordinates only, so a replay rewrites it. */
export function objectKey(expandedPrefix: string, topic: string, partition: number, firstOffset: string, compression: 'gzip' | 'none'): string {
  return `${expandedPrefix}${topic}+${partition}+${firstOffset.padStart(20, '0')}.json${compression === 'gzip' ? '.gz' : ''}`;
}
