import { inferType, toSqlText, warehouseType } from '../src/column-types';

describe('warehouseType', () => {
  it.each([
    ['integer', 'integer'],
    ['int4', 'integer'],
    ['bigint', 'bigint'],
    ['numeric(12,2)', 'numeric(12,2)'],
    ['numeric( 12 , 2 )', 'numeric(12,2)'],
    ['character varying(255)', 'character varying(255)'],
    ['varchar(10)', 'character varying(10)'],
    ['timestamp with time zone', 'timestamp with time zone'],
    ['timestamp(3) with time zone', 'timestamp(3) with time zone'],
    ['timestamp without time zone', 'timestamp without time zone'],
    ['timestamptz', 'timestamp with time zone'],
    ['double precision', 'double precision'],
    ['text[]', 'text[]'],
    ['integer[]', 'integer[]'],
    ['jsonb', 'jsonb'],
    ['Boolean', 'boolean'],
  ])('%s -> %s', (pg, wh) => expect(warehouseType(pg)).toBe(wh));

  it.each(['policy_status', 'geometry(Point,4326)', 'integer); DROP TABLE x; --', 'text default now()', 'integer(5)', 'time zone', 'numeric(1,2,3)'])(
    'maps %j to text (not on the allowlist)',
    (pg) => expect(warehouseType(pg)).toBe('text'),
  );
});

describe('inferType', () => {
  it('infers from JSON values', () => {
    expect(inferType(1)).toBe('bigint');
    expect(inferType(1.5)).toBe('double precision');
    expect(inferType(true)).toBe('boolean');
    expect(inferType('x')).toBe('text');
    expect(inferType({ a: 1 })).toBe('jsonb');
    expect(inferType(null)).toBe('text');
  });
});

describe('toSqlText', () => {
  it('encodes values for bind parameters', () => {
    expect(toSqlText(null, 'text')).toBeNull();
    expect(toSqlText(undefined, 'text')).toBeNull();
    expect(toSqlText(42, 'integer')).toBe('42');
    expect(toSqlText(false, 'boolean')).toBe('false');
    expect(toSqlText({ a: [1] }, 'jsonb')).toBe('{"a":[1]}');
    expect(toSqlText([1, 2], 'jsonb')).toBe('[1,2]');
    expect(toSqlText(['a', 'b"c', null], 'text[]')).toBe('{"a","b\\"c",NULL}');
    expect(toSqlText('2024-01-01T00:00:00Z', 'timestamp with time zone')).toBe('2024-01-01T00:00:00Z');
    expect(toSqlText(Buffer.from([0, 255, 16]).toString('base64'), 'bytea')).toBe('\\x00ff10');
  });
});
