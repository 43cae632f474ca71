/**
 * A fast path beside @bufbuild/cel's interpreter for the common shape of rules: comparisons of
 * top-level fields with constants or with each other, `in` over a list of string constants,
 * `&&`, `||`, `!`, `int()`, `double()`, `timestamp()` of a timestamp and its calendar methods.
 * Each expression of that shape becomes a tree of plain JS closures.
 *
 * It only ever answers with a value the interpreter would give: whenever a value is not one it
 * handles (a missing field, null, a list, a map, a string where a number is compared, a number
 * out of int range, any error) it answers BAIL and the caller evaluates the expression with the
 * interpreter instead, so errors and the less common types keep the interpreter's semantics
 * exactly. Expressions with anything else (arithmetic, macros, field selection, other functions)
 * are not compiled at all. test/rules/cel-fast.test.ts runs the same expressions and inputs
 * through both. Pure.
 */
import type { parse } from '@bufbuild/cel';
import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';

type Expr = ReturnType<typeof parse>['expr'];

/** The fast path cannot tell: evaluate with the interpreter. */
export const BAIL: unique symbol = Symbol('bail');

export type FastValue = number | bigint | string | boolean | Timestamp;
export type FastResult = FastValue | typeof BAIL;
export type FastExpr = (vars: Record<string, unknown>) => FastResult;

/** Calendar fields the timestamp methods read, as cel-expr.ts computes them for the interpreter. */
export type TimeField = (ms: number, tz: string | undefined) => number;

/** Identifiers the interpreter may resolve to something other than a variable (type names). */
const RESERVED = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn', 'timestamp', 'duration']);

function isTimestamp(v: unknown): v is Timestamp {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<Timestamp>;
  return t.$typeName === 'google.protobuf.Timestamp' && typeof t.seconds === 'bigint' && typeof t.nanos === 'number';
}

const INT_LIMIT = 2 ** 62;
const EXACT_DOUBLE = BigInt(2 ** 53);

type Comparison = '_==_' | '_!=_' | '_<_' | '_<=_' | '_>_' | '_>=_';
const COMPARISONS = new Set<string>(['_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_']);

function compareNumbers(op: Comparison, a: number | bigint, b: number | bigint): boolean {
  switch (op) {
    case '_==_':
      // Mixed number / bigint equality is exact in JS; NaN equals nothing.
      return a == b;
    case '_!=_':
      return !(a == b);
    case '_<_':
      return a < b;
    case '_<=_':
      return a <= b;
    case '_>_':
      return a > b;
    case '_>=_':
      return a >= b;
  }
}

function isNumeric(v: FastResult): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Compiles `expr`, or undefined when it has anything the fast path does not cover. */
export function compileFast(expr: Expr, timeFields: Record<string, TimeField>): FastExpr | undefined {
  const k = expr.exprKind;
  switch (k.case) {
    case 'constExpr': {
      const c = k.value.constantKind;
      let v: FastValue;
      if (c.case === 'int64Value' || c.case === 'doubleValue' || c.case === 'stringValue' || c.case === 'boolValue') v = c.value;
      else return undefined;
      return () => v;
    }
    case 'identExpr': {
      const name = k.value.name;
      if (RESERVED.has(name) || name.includes('.')) return undefined;
      return (vars) => {
        if (!Object.hasOwn(vars, name)) return BAIL;
        const v = vars[name];
        const t = typeof v;
        if (t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint') return v as FastValue;
        return isTimestamp(v) ? v : BAIL;
      };
    }
    case 'callExpr':
      return compileCall(k.value.function, k.value.target, k.value.args, timeFields);
    default:
      return undefined;
  }
}

function compileCall(fn: string, target: Expr | undefined, argExprs: Expr[], timeFields: Record<string, TimeField>): FastExpr | undefined {
  if (target) {
    const field = timeFields[fn];
    if (!field || argExprs.length > 1) return undefined;
    const on = compileFast(target, timeFields);
    const tzExpr = argExprs.length === 1 ? compileFast(argExprs[0], timeFields) : undefined;
    if (!on || (argExprs.length === 1 && !tzExpr)) return undefined;
    return (vars) => {
      const ts = on(vars);
      if (!isTimestamp(ts)) return BAIL;
      let tz: string | undefined;
      if (tzExpr) {
        const z = tzExpr(vars);
        if (typeof z !== 'string') return BAIL;
        tz = z;
      }
      try {
        return BigInt(field(timestampMs(ts), tz));
      } catch {
        // An unknown time zone, a time out of Date's range: the interpreter reports it.
        return BAIL;
      }
    };
  }
  if (fn === '@in') return compileIn(argExprs, timeFields);
  const args: FastExpr[] = [];
  for (const a of argExprs) {
    const c = compileFast(a, timeFields);
    if (!c) return undefined;
    args.push(c);
  }
  if ((fn === '_&&_' || fn === '_||_') && args.length === 2) {
    const decisive = fn === '_||_';
    const [a, b] = args;
    // As the interpreter: the first operand equal to `decisive` decides; otherwise both must be booleans.
    return (vars) => {
      const x = a(vars);
      if (x === decisive) return decisive;
      const y = b(vars);
      if (y === decisive) return decisive;
      return typeof x === 'boolean' && typeof y === 'boolean' ? !decisive : BAIL;
    };
  }
  if (args.length === 1) {
    const [a] = args;
    switch (fn) {
      case '!_':
        return (vars) => {
          const x = a(vars);
          return typeof x === 'boolean' ? !x : BAIL;
        };
      case 'int':
        return (vars) => {
          const x = a(vars);
          if (typeof x === 'bigint') return x;
          // Far inside int64: the interpreter's range checks and rounding at the edges are its own.
          if (typeof x === 'number' && Number.isFinite(x) && Math.abs(x) < INT_LIMIT) return BigInt(Math.trunc(x));
          return BAIL;
        };
      case 'double':
        return (vars) => {
          const x = a(vars);
          if (typeof x === 'number') return x;
          if (typeof x === 'bigint' && x <= EXACT_DOUBLE && x >= -EXACT_DOUBLE) return Number(x);
          return BAIL;
        };
      case 'timestamp':
        return (vars) => {
          const x = a(vars);
          return isTimestamp(x) ? x : BAIL;
        };
      default:
        return undefined;
    }
  }
  if (args.length === 2 && COMPARISONS.has(fn)) {
    const op = fn as Comparison;
    const [a, b] = args;
    const equality = op === '_==_' || op === '_!=_';
    return (vars) => {
      const x = a(vars);
      if (x === BAIL) return BAIL;
      const y = b(vars);
      if (isNumeric(x) && isNumeric(y)) return compareNumbers(op, x, y);
      // Strings and booleans: equality only (ordering of strings and of booleans is left to the interpreter).
      if (equality && ((typeof x === 'string' && typeof y === 'string') || (typeof x === 'boolean' && typeof y === 'boolean'))) {
        return op === '_==_' ? x === y : x !== y;
      }
      return BAIL;
    };
  }
  return undefined;
}

/** `x in [string constants]`. */
function compileIn(argExprs: Expr[], timeFields: Record<string, TimeField>): FastExpr | undefined {
  if (argExprs.length !== 2) return undefined;
  const [needle, hay] = argExprs;
  if (hay.exprKind.case !== 'listExpr' || hay.exprKind.value.optionalIndices.length > 0) return undefined;
  const items = new Set<string>();
  for (const e of hay.exprKind.value.elements) {
    if (e.exprKind.case !== 'constExpr' || e.exprKind.value.constantKind.case !== 'stringValue') return undefined;
    items.add(e.exprKind.value.constantKind.value);
  }
  const x = compileFast(needle, timeFields);
  if (!x) return undefined;
  return (vars) => {
    const v = x(vars);
    return typeof v === 'string' ? items.has(v) : BAIL;
  };
}
