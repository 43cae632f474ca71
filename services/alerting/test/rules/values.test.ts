import { keyString, numericOrSelf, parseEventTime, toCelInput, toNumber, withValueAt } from '../../src/rules/values';

describe('values', () => {
  it('reads decimal strings as numbers, and nothing else', () => {
    expect(numericOrSelf('1234.56')).toBe(1234.56);
    expect(numericOrSelf('-3')).toBe(-3);
    expect(numericOrSelf('0')).toBe(0);
    expect(numericOrSelf('007')).toBe('007');
    expect(numericOrSelf('12abc')).toBe('12abc');
    expect(numericOrSelf('')).toBe('');
    expect(toNumber('99.5')).toBe(99.5);
    expect(toNumber('FR')).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
    expect(toCelInput({ a: '1.5', b: ['2', 'x'], c: { d: '3' } })).toEqual({ a: 1.5, b: [2, 'x'], c: { d: 3 } });
  });

  it('copies only the objects and arrays in which a value changes, and never modifies its input', () => {
    const plain = { a: 'FR', b: [1, 'x'], c: { d: null, e: true } };
    expect(toCelInput(plain)).toBe(plain);
    const input = { z: 'x', a: 'FR', b: ['x', '2', 'y'], c: { d: 'k' }, e: { f: '-3.5e2' }, g: 7 };
    const snapshot = JSON.parse(JSON.stringify(input));
    const out = toCelInput(input) as typeof input;
    expect(out).toEqual({ z: 'x', a: 'FR', b: ['x', 2, 'y'], c: { d: 'k' }, e: { f: -350 }, g: 7 });
    expect(Object.keys(out)).toEqual(Object.keys(input));
    expect(out).not.toBe(input);
    expect(out.c).toBe(input.c);
    expect(input).toEqual(snapshot);
  });

  it('parses event times from ISO-8601 and epoch millis, micros and nanos', () => {
    const ms = Date.parse('2026-11-22T03:00:00.123Z');
    expect(parseEventTime('2026-11-22T03:00:00.123Z')).toBe(ms);
    expect(parseEventTime(ms)).toBe(ms);
    expect(parseEventTime(String(ms))).toBe(ms);
    expect(parseEventTime(ms * 1000)).toBe(ms);
    expect(parseEventTime(ms * 1_000_000)).toBe(ms);
    expect(parseEventTime('yesterday')).toBeUndefined();
    expect(parseEventTime(undefined)).toBeUndefined();
    expect(parseEventTime(-5)).toBeUndefined();
  });

  it('keys: numbers and numeric strings alike, objects as JSON', () => {
    expect(keyString(42)).toBe('42');
    expect(keyString('42')).toBe('42');
    expect(keyString('42.0')).toBe('42');
    expect(keyString('A-1')).toBe('A-1');
    expect(keyString({ a: 1 })).toBe('{"a":1}');
    expect(keyString(null)).toBeUndefined();
  });

  it('sets a path without touching the original', () => {
    const orig = { after: { ts: 'x', n: 1 }, op: 'c' };
    const out = withValueAt(orig, 'after.ts', 5);
    expect(out).toEqual({ after: { ts: 5, n: 1 }, op: 'c' });
    expect(orig.after.ts).toBe('x');
  });
});
