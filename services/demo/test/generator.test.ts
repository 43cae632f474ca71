import { ChangeGenerator, daytime, fraudRulesTripped, isNightHourUtc, nightTime, type Change } from '../src/generator';

const NOON = new Date('2026-11-22T12:30:00Z');
const NIGHT = new Date('2026-11-22T03:40:00Z');

function run(n: number, now: Date, fraudRatio = 0.05, seed = 42): Change[] {
  return new ChangeGenerator({ seed, fraudRatio }).take(n, now);
}

test('the same seed gives the same changes; another seed, others', () => {
  expect(run(200, NOON)).toEqual(run(200, NOON));
  expect(run(200, NOON, 0.05, 7)).not.toEqual(run(200, NOON));
});

test('a mix of inserts and updates over the three tables, references always to known rows', () => {
  const changes = run(3000, NOON);
  const kinds = new Set(changes.map((c) => `${c.table}:${c.op}`));
  expect([...kinds].sort()).toEqual(['claims:c', 'claims:u', 'policies:c', 'policies:u', 'transactions:c']);
  const policies = new Set<string>();
  const claims = new Set<string>();
  for (const c of changes) {
    if (c.table === 'policies' && c.op === 'c') policies.add(c.row.policy_id);
    else if (c.table === 'policies') expect(policies.has(c.key)).toBe(true);
    else if (c.table === 'claims' && c.op === 'c') {
      expect(policies.has(c.row.policy_id)).toBe(true);
      claims.add(c.row.claim_id);
    } else if (c.table === 'claims') expect(claims.has(c.key)).toBe(true);
    else expect(policies.has(c.row.policy_id)).toBe(true);
  }
});

test('ids are unique and carry the prefix', () => {
  const changes = new ChangeGenerator({ seed: 1, fraudRatio: 0.1, idPrefix: 'run7' }).take(2000, NOON);
  const ids = changes.filter((c) => c.op === 'c').map((c) => Object.values(c.row)[0] as string);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^run7-(POL|CLM|TXN)-\d{7}$/);
});

test.each([
  ['at noon', NOON],
  ['at night', NIGHT],
])('%s: flagged transactions trip exactly their rule, the others trip none', (_name, now) => {
  const txns = run(5000, now, 0.2).filter((c): c is Extract<Change, { table: 'transactions' }> => c.table === 'transactions');
  const flagged = txns.filter((t) => t.fraud);
  expect(flagged.length / txns.length).toBeGreaterThan(0.12);
  expect(flagged.length / txns.length).toBeLessThan(0.28);
  for (const t of txns) expect(fraudRulesTripped(t.row)).toEqual(t.fraud ? [t.fraud] : []);
  expect(new Set(flagged.map((t) => t.fraud)).size).toBe(3);
});

test('fraudRatio 0 writes no fraud', () => {
  const txns = run(2000, NOON, 0).filter((c) => c.table === 'transactions');
  expect(txns.every((c) => c.table === 'transactions' && fraudRulesTripped(c.row).length === 0)).toBe(true);
});

test('daytime and nightTime land on the right side of 23:00-05:00 UTC', () => {
  for (let h = 0; h < 24; h++) {
    const now = new Date(Date.UTC(2026, 10, 22, h, 17));
    expect(isNightHourUtc(daytime(now))).toBe(false);
    expect(isNightHourUtc(nightTime(now))).toBe(true);
    expect(daytime(now).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(nightTime(now).getTime()).toBeLessThanOrEqual(now.getTime());
  }
});
