import { celTimestamp, compileCel, zonedParts } from '../../src/rules/cel-expr';

describe('CEL expressions', () => {
  it('evaluates comparisons, in, field-to-field and mixed int/double', () => {
    expect(compileCel('amount > 50000').evaluate({ amount: 50000.5 })).toBe(true);
    expect(compileCel('amount > 50000').evaluate({ amount: 50000 })).toBe(false);
    expect(compileCel('country in ["FR", "DE"]').evaluate({ country: 'DE' })).toBe(true);
    expect(compileCel('country != account_country').evaluate({ country: 'FR', account_country: 'US' })).toBe(true);
  });

  it('returns an Error for a missing field instead of throwing', () => {
    expect(compileCel('after.amount > 1').evaluate({ after: {} })).toBeInstanceOf(Error);
  });

  it('throws on syntax errors', () => {
    expect(() => compileCel('amount >')).toThrow(/invalid CEL/);
  });

  it('hour of day and day of week in a time zone, on timestamps built from epoch millis', () => {
    const ts = celTimestamp(Date.parse('2026-11-22T23:30:00Z')); // a Sunday
    expect(compileCel('timestamp(ts).getHours("UTC")').evaluate({ ts })).toBe(23n);
    expect(compileCel('ts.getHours("Europe/Paris")').evaluate({ ts })).toBe(0n);
    expect(compileCel('ts.getHours("-05:00")').evaluate({ ts })).toBe(18n);
    expect(compileCel('ts.getDayOfWeek("UTC")').evaluate({ ts })).toBe(0n);
    expect(compileCel('ts.getDayOfWeek("Asia/Tokyo")').evaluate({ ts })).toBe(1n);
    expect(compileCel('timestamp("2026-11-22T04:59:59Z").getHours()').evaluate({})).toBe(4n);
  });

  it('computes zoned calendar fields like Intl does', () => {
    const ms = Date.parse('2026-03-29T01:30:00Z'); // Paris switches to summer time at 01:00 UTC
    expect(zonedParts(ms, 'Europe/Paris')).toEqual({ year: 2026, month: 2, day: 29, hour: 3, minute: 30, second: 0, weekday: 0 });
    expect(zonedParts(ms, undefined).hour).toBe(1);
  });
});
