/**
 * CEL expressions via @bufbuild/cel: parsed and planned once per rule, evaluated per event.
 * Never `eval`, never a hand-written parser. Expressions of the common shape (comparisons of
 * fields, `in`, `&&`, `||`, timestamps' calendar methods) also get a closure-compiled fast path
 * (cel-fast.ts) that answers where it is sure of the interpreter's value and hands over otherwise.
 *
 * The library's timestamp methods build a new Intl.DateTimeFormat on every call with a time
 * zone (~200 µs); the overrides below cache one formatter per zone, which keeps hour-of-day
 * rules at a few µs per event. Semantics are the CEL spec's (IANA zone, fixed offset or none = UTC).
 */
import { CelScalar, celEnv, celMethod, isCelError, objectType, parse, plan } from '@bufbuild/cel';
import { TimestampSchema, timestampFromMs, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { BAIL, compileFast, type TimeField } from './cel-fast';

export interface CompiledExpr {
  source: string;
  /** The result, or an Error when evaluation failed (missing field, type mismatch). */
  evaluate(vars: Record<string, unknown>): unknown;
}

interface ZonedParts {
  year: number;
  month: number; // 0-based, as CEL's getMonth
  day: number; // 1-based
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function utcParts(d: Date): ZonedParts {
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** Calendar fields of an instant in a time zone (IANA name, `UTC`, or a fixed offset `+02:00`). */
export function zonedParts(ms: number, tz: string | undefined): ZonedParts {
  return utcParts(zonedDate(ms, tz));
}

const fixedOffsets = new Map<string, number | null>();

/** The instant shifted by the zone's offset: its UTC fields are the zone's calendar fields. */
function zonedDate(ms: number, tz: string | undefined): Date {
  if (tz === undefined || tz === 'UTC') return new Date(ms);
  let offset = fixedOffsets.get(tz);
  if (offset === undefined) {
    const fixed = /^([+-]?)(\d\d):(\d\d)$/.exec(tz);
    offset = fixed ? (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3_600_000 + Number(fixed[3]) * 60_000) : null;
    if (fixedOffsets.size < 1000) fixedOffsets.set(tz, offset);
  }
  return new Date(ms + (offset ?? zoneOffsetMs(ms, tz)));
}

const QUARTER_HOUR = 900_000;
const offsets = new Map<string, { bucket: number; offset: number }>();

/** UTC offset of an IANA zone at an instant. Zone transitions fall on quarter hours, so one Intl call per zone and quarter hour is enough. */
function zoneOffsetMs(ms: number, tz: string): number {
  const bucket = Math.floor(ms / QUARTER_HOUR);
  const cached = offsets.get(tz);
  if (cached && cached.bucket === bucket) return cached.offset;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      hourCycle: 'h23',
      timeZone: tz,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  const start = bucket * QUARTER_HOUR;
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(start))) p[part.type] = part.value;
  const offset = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) - start;
  offsets.set(tz, { bucket, offset });
  return offset;
}

/** The calendar methods of timestamps, by name, on the zoned instant: the interpreter's overrides and the fast path share them. */
const TIME_FIELDS: Record<string, (d: Date) => number> = {
  getHours: (d) => d.getUTCHours(),
  getMinutes: (d) => d.getUTCMinutes(),
  getSeconds: (d) => d.getUTCSeconds(),
  getDayOfWeek: (d) => d.getUTCDay(),
  getDate: (d) => d.getUTCDate(),
  getDayOfMonth: (d) => d.getUTCDate() - 1,
  getMonth: (d) => d.getUTCMonth(),
  getFullYear: (d) => d.getUTCFullYear(),
};

const FAST_TIME_FIELDS: Record<string, TimeField> = Object.fromEntries(
  Object.entries(TIME_FIELDS).map(([name, pick]) => [name, (ms: number, tz: string | undefined) => pick(zonedDate(ms, tz))]),
);

const TIMESTAMP = objectType(TimestampSchema);

function timeMethods(name: string, pick: (d: Date) => number) {
  const impl = function (this: { message: Timestamp }, tz?: string) {
    return BigInt(pick(zonedDate(timestampMs(this.message), tz)));
  };
  return [celMethod(name, TIMESTAMP, [], CelScalar.INT, impl), celMethod(name, TIMESTAMP, [CelScalar.STRING], CelScalar.INT, impl)];
}

const ENV = celEnv({
  funcs: Object.entries(TIME_FIELDS).flatMap(([name, pick]) => timeMethods(name, pick)),
});

/** An epoch-millis instant as a CEL timestamp input. */
export function celTimestamp(ms: number): Timestamp {
  return timestampFromMs(ms);
}

/**
 * Compiles an expression; throws an Error with the parser's message on a syntax error. `fast:
 * false` leaves the fast path out (the interpreter alone, to compare the two).
 */
export function compileCel(source: string, { fast: withFast = true }: { fast?: boolean } = {}): CompiledExpr {
  let parsed;
  try {
    parsed = parse(source);
  } catch (err) {
    throw new Error(`invalid CEL: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const run = plan(ENV, parsed);
  const fast = withFast ? compileFast(parsed.expr, FAST_TIME_FIELDS) : undefined;
  return {
    source,
    evaluate(vars) {
      // The fast path answers only where it gives the interpreter's value (cel-fast.ts); it never throws.
      if (fast) {
        const r = fast(vars);
        if (r !== BAIL) return r;
      }
      let out: unknown;
      try {
        out = run(vars as never);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
      if (isCelError(out)) return new Error((out as Error).message);
      return out;
    },
  };
}

/** True only for a boolean `true` result (errors and non-booleans are not matches). */
export function isTrue(result: unknown): boolean {
  return result === true;
}

/** CEL results as plain JSON values (ints come back as bigint). */
export function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  return v;
}
