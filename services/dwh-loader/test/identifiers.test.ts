import { identifierProblem, isReservedColumn, qualified, quoteIdent } from '../src/identifiers';

describe('identifiers from data', () => {
  it.each(['policies', 'Policy_2', '_x', 'a$b'])('accepts %s', (name) => expect(identifierProblem(name)).toBeUndefined());
  it.each(['', '1abc', 'a b', 'x"; DROP TABLE t; --', "a'b", 'a.b', 'é', 'a'.repeat(64), 'tab\tle'])('rejects %j', (name) =>
    expect(identifierProblem(name)).toBeDefined(),
  );
  it('quotes, doubling embedded quotes', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(qualified('dwh', 'policies')).toBe('"dwh"."policies"');
  });
  it('reserves the loader column names', () => {
    expect(isReservedColumn('_tideway_lsn')).toBe(true);
    expect(isReservedColumn('_deleted')).toBe(true);
    expect(isReservedColumn('deleted')).toBe(false);
  });
});
