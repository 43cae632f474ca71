import { codecForType, decodeValue, isFallback, isoTimestamp, parseArrayLiteral, type PgTypeRow } from '../src/value-codec';

const t = (oid: number, name: string, extra: Partial<PgTypeRow> = {}): PgTypeRow => ({
  oid,
  name,
  typtype: 'b',
  elementOid: 0,
  baseOid: 0,
  category: 'N',
  delimiter: ',',
  ...extra,
});

describe('decodeValue', () => {
  it('keeps NUMERIC exact as a string, never through a float', () => {
    expect(decodeValue('12345678901234567890.123456789012345678', { kind: 'numeric' })).toBe('12345678901234567890.123456789012345678');
    expect(decodeValue('0.10', { kind: 'numeric' })).toBe('0.10');
  });

  it('gives int8 as a number when exact, as a string beyond 2^53', () => {
    expect(decodeValue('42', { kind: 'int8' })).toBe(42);
    expect(decodeValue('9223372036854775807', { kind: 'int8' })).toBe('9223372036854775807');
  });

  it('decodes floats, keeping NaN and infinities as strings', () => {
    expect(decodeValue('1.5', { kind: 'float' })).toBe(1.5);
    expect(decodeValue('NaN', { kind: 'float' })).toBe('NaN');
    expect(decodeValue('-Infinity', { kind: 'float' })).toBe('-Infinity');
  });

  it('decodes bool, json, jsonb and bytea (base64)', () => {
    expect(decodeValue('t', { kind: 'bool' })).toBe(true);
    expect(decodeValue('f', { kind: 'bool' })).toBe(false);
    expect(decodeValue('{"a": [1, "x"], "n": 1.50}', { kind: 'json' })).toEqual({ a: [1, 'x'], n: 1.5 });
    expect(decodeValue('\\xdeadbeef', { kind: 'bytea' })).toBe(Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64'));
    expect(() => decodeValue('{bad', { kind: 'json' })).toThrow(/invalid JSON/);
  });

  it('renders timestamps as ISO-8601 with zone, keeping microseconds', () => {
    expect(decodeValue('2024-03-01 12:34:56.123456+00', { kind: 'timestamptz' })).toBe('2024-03-01T12:34:56.123456Z');
    expect(decodeValue('2024-03-01 12:34:56+00', { kind: 'timestamptz' })).toBe('2024-03-01T12:34:56Z');
    expect(decodeValue('2024-03-01 12:34:56.5', { kind: 'timestamp' })).toBe('2024-03-01T12:34:56.5Z');
    expect(isoTimestamp('2024-03-01 01:00:00.25+05:30', true)).toBe('2024-02-29T19:30:00.25Z');
    expect(isoTimestamp('infinity', true)).toBe('infinity');
  });

  it('decodes arrays of typed elements, nested arrays, NULLs and quoted elements', () => {
    expect(decodeValue('{1,2,NULL}', { kind: 'array', element: { kind: 'int' }, delimiter: ',' })).toEqual([1, 2, null]);
    expect(decodeValue('{{1.10,2},{3,4}}', { kind: 'array', element: { kind: 'numeric' }, delimiter: ',' })).toEqual([
      ['1.10', '2'],
      ['3', '4'],
    ]);
    expect(decodeValue('{"a b","c\\"d",NULL,"NULL"}', { kind: 'array', element: { kind: 'text', known: true }, delimiter: ',' })).toEqual([
      'a b',
      'c"d',
      null,
      'NULL',
    ]);
    expect(decodeValue('{}', { kind: 'array', element: { kind: 'int' }, delimiter: ',' })).toEqual([]);
    expect(parseArrayLiteral('[0:1]={7,8}', ',', Number)).toEqual([7, 8]);
    expect(() => parseArrayLiteral('{1,2', ',', Number)).toThrow(/malformed|unterminated/);
  });
});

describe('codecForType', () => {
  const types = new Map<number, PgTypeRow>([
    [23, t(23, 'int4')],
    [1700, t(1700, 'numeric')],
    [1231, t(1231, '_numeric', { category: 'A', elementOid: 1700 })],
    [600, t(600, 'point', { category: 'G' })],
    [1017, t(1017, '_point', { category: 'A', elementOid: 600 })],
    [90001, t(90001, 'money_amount', { typtype: 'd', baseOid: 1700 })],
    [90002, t(90002, 'mood', { typtype: 'e', category: 'E' })],
  ]);
  const lookup = (oid: number) => types.get(oid);

  it('maps built-in types, arrays and domains to their codecs', () => {
    expect(codecForType(types.get(23), lookup)).toEqual({ kind: 'int' });
    expect(codecForType(types.get(1231), lookup)).toEqual({ kind: 'array', element: { kind: 'numeric' }, delimiter: ',' });
    expect(codecForType(types.get(90001), lookup)).toEqual({ kind: 'numeric' });
    expect(codecForType(types.get(90002), lookup)).toEqual({ kind: 'text', known: true });
  });

  it('falls back to text for unknown types and says so', () => {
    expect(isFallback(codecForType(types.get(600), lookup))).toBe(true);
    expect(isFallback(codecForType(types.get(1017), lookup))).toBe(true);
    expect(isFallback(codecForType(undefined, lookup))).toBe(true);
    expect(isFallback(codecForType(types.get(23), lookup))).toBe(false);
  });
});
