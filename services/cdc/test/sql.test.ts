import { quoteIdent, quoteLiteral, quoteTable } from '../src/sql';

describe('SQL quoting', () => {
  it('always quotes identifiers and doubles embedded quotes', () => {
    expect(quoteIdent('Order Lines')).toBe('"Order Lines"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteTable('public', 'x; DROP TABLE y')).toBe('"public"."x; DROP TABLE y"');
  });

  it('escapes literals and refuses NUL bytes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });
});
