import { parse } from '@bufbuild/cel';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BAIL, compileFast } from '../../src/rules/cel-fast';
import { celTimestamp, compileCel } from '../../src/rules/cel-expr';

/** Expressions the fast path compiles; each is run through it and through the interpreter alone. */
const COVERED = [
  'amount > 9990',
  'amount >= 5000.0 && amount == double(int(amount))',
  'country != account_country',
  'country == account_country',
  'country in ["KP", "IR", "SY"] && amount > 100',
  'channel == "pos" && country != account_country && amount > 2000',
  'timestamp(ts).getHours("UTC") >= 23 || timestamp(ts).getHours("UTC") < 5',
  'timestamp(ts).getDayOfWeek("Europe/Paris") == 0 && amount > 9000',
  'ts.getHours() == 3',
  'ts.getMinutes("-05:30") < 30 && ts.getSeconds() >= 0 && ts.getMonth("Asia/Tokyo") <= 11',
  'ts.getDate("America/New_York") != ts.getDayOfMonth("America/New_York")',
  'ts.getFullYear(zone) > 2000',
  '!(amount < 10) || flag',
  '!flag && !other',
  'flag == other',
  'flag != true',
  'amount == n',
  'amount != n',
  'amount < n || amount <= n || amount > n || amount >= n',
  'n > 3 && n < 9223372036854775807',
  'int(amount) == n',
  'int(amount) == 1 || int(amount) == -2 || int(amount) > 9990',
  'int(amount) < 2 && int(amount) >= -2',
  'double(n) == 9007199254740992.0 || double(n) < 6.0',
  'int(n) <= 5',
  'double(n) == amount',
  'double(n) > 1.5',
  'amount == 100',
  'amount == 100.0',
  'country in ["FR"] || channel in []',
  'x == 1 && y == 2',
  'x == 1 || y == 2',
  'x || y',
  'x && y',
  'country == 1',
  'amount == "1"',
  'timestamp(country).getHours() == 1',
  'ts.getHours(country) == 1',
];

/** Values a field can hold: every kind the decoder produces, edge numbers, timestamps. */
const VALUES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  1.5,
  -2.5,
  100,
  100.00000000000001,
  2000,
  5000,
  5000.5,
  9000.01,
  9990,
  9990.01,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Number.MAX_VALUE,
  2 ** 53,
  2 ** 63,
  -(2 ** 63),
  2 ** 62 - 1024,
  0n,
  5n,
  100n,
  -7n,
  2n ** 53n + 1n,
  9223372036854775807n,
  '',
  'KP',
  'FR',
  'pos',
  '1',
  'UTC',
  'Europe/Paris',
  'Not/AZone',
  '+02:00',
  [],
  ['KP'],
  {},
  { a: 1 },
  celTimestamp(Date.parse('2026-11-22T23:30:00Z')),
  celTimestamp(Date.parse('2026-03-29T01:30:00Z')),
  celTimestamp(Date.parse('1969-12-31T23:59:59.999Z')),
  celTimestamp(0),
];

const FIELDS = ['amount', 'country', 'account_country', 'channel', 'ts', 'flag', 'other', 'n', 'x', 'y', 'zone'];

/** A seeded generator, so that a failure can be replayed. */
function generator(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function activation(rand: () => number): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = VALUES[Math.floor(rand() * VALUES.length)];
    if (v !== undefined) vars[f] = v;
  }
  return vars;
}

/** The calendar methods, computed by the interpreter itself. */
const TIME_FIELDS = Object.fromEntries(
  ['getHours', 'getMinutes', 'getSeconds', 'getDayOfWeek', 'getDate', 'getDayOfMonth', 'getMonth', 'getFullYear'].map((m) => {
    const viaInterpreter = compileCel(`t.${m}(z)`, { fast: false });
    return [m, (ms: number, tz: string | undefined) => Number(viaInterpreter.evaluate({ t: celTimestamp(ms), z: tz ?? 'UTC' }))];
  }),
);

function benchRules(): string[] {
  const rules = readFileSync(join(__dirname, '../../../../bench/alerting/rules.yaml'), 'utf8');
  return [...rules.matchAll(/when: '?(.*?)'? \}$/gm)].map((m) => m[1]);
}

describe('the CEL fast path against the interpreter', () => {
  it('compiles every expression of the covered shape, and the benchmark rules', () => {
    const whens = benchRules();
    expect(whens).toHaveLength(7);
    for (const source of [...COVERED, ...whens]) expect([source, compileFast(parse(source).expr, TIME_FIELDS) !== undefined]).toEqual([source, true]);
  });

  it('leaves out what it does not cover', () => {
    for (const source of [
      'amount + 1 > 2',
      'has(a.b)',
      'a.b == 1',
      '[1, 2].exists(x, x > 1)',
      'size(country) > 1',
      'amount in [1, 2]',
      'x ? y : z',
      'null == x',
      'int == x',
      '1u == x',
    ]) {
      expect([source, compileFast(parse(source).expr, TIME_FIELDS)]).toEqual([source, undefined]);
    }
  });

  it('gives the interpreter’s value wherever it answers, on 200 random inputs per expression', () => {
    const rand = generator(42);
    let answered = 0;
    let handedOver = 0;
    for (const source of COVERED) {
      const both = compileCel(source);
      const interpreter = compileCel(source, { fast: false });
      for (let i = 0; i < 200; i++) {
        const vars = activation(rand);
        const expected = interpreter.evaluate(vars);
        const got = both.evaluate(vars);
        if (expected instanceof Error) expect(got).toBeInstanceOf(Error);
        else expect({ source, vars, got }).toEqual({ source, vars, got: expected });
      }
      // The fast path alone: what it answers is what the interpreter answers.
      const fast = compileFast(parse(source).expr, TIME_FIELDS)!;
      expect(fast).toBeDefined();
      const interpreter2 = compileCel(source, { fast: false });
      for (let i = 0; i < 200; i++) {
        const vars = activation(rand);
        const r = fast(vars);
        if (r === BAIL) {
          handedOver++;
          continue;
        }
        answered++;
        expect({ source, vars, r }).toEqual({ source, vars, r: interpreter2.evaluate(vars) });
      }
    }
    // Both branches are exercised.
    expect(answered).toBeGreaterThan(1000);
    expect(handedOver).toBeGreaterThan(1000);
  });

  it('answers the benchmark’s events without the interpreter', () => {
    const whens = benchRules();
    const vars = {
      amount: 5000,
      country: 'KP',
      account_country: 'FR',
      channel: 'pos',
      ts: celTimestamp(Date.parse('2026-11-22T23:30:00Z')),
      txn_id: 'T1',
      account_id: 'A1',
    };
    for (const w of whens) expect([w, compileFast(parse(w).expr, TIME_FIELDS)!(vars)]).toEqual([w, compileCel(w, { fast: false }).evaluate(vars)]);
  });
});
