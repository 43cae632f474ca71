import { changeStatement, quoteIdent } from '../src/postgres-writer';

test('inserts are parameterised and idempotent on the primary key', () => {
  const st = changeStatement('demo_x', {
    table: 'claims',
    op: 'c',
    row: { claim_id: 'CLM-1', policy_id: 'POL-1', amount: '10.00', status: 'filed', description: "it's; DROP TABLE" },
  });
  expect(st.text).toBe(
    'INSERT INTO "demo_x".claims (claim_id, policy_id, amount, status, description) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (claim_id) DO NOTHING',
  );
  expect(st.values).toEqual(['CLM-1', 'POL-1', '10.00', 'filed', "it's; DROP TABLE"]);
});

test('updates touch one row by key', () => {
  expect(changeStatement('public', { table: 'policies', op: 'u', key: 'POL-9', set: { status: 'lapsed', premium: '99.00' } })).toEqual({
    text: 'UPDATE "public".policies SET status = $1, premium = $2, updated_at = now() WHERE policy_id = $3',
    values: ['lapsed', '99.00', 'POL-9'],
  });
});

test('quoteIdent refuses anything but a plain lower-case identifier', () => {
  expect(quoteIdent('demo_ab12')).toBe('"demo_ab12"');
  for (const bad of ['Demo', 'a"b', 'a b', '1abc', '', 'x'.repeat(64)]) expect(() => quoteIdent(bad)).toThrow(/not a safe SQL identifier/);
});
