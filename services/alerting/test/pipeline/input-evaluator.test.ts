import type { IncomingMessage } from '@tideway/runtime';
import { evaluateRecord, RuleIndex } from '../../src/pipeline/input-evaluator';
import { parseRuleFile } from '../../src/rules/rule-file';

const msg = (topic: string, value: unknown, offset = '7'): IncomingMessage => ({
  topic,
  partition: 1,
  offset,
  key: null,
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  timestamp: Date.parse('2026-11-22T12:00:00Z'),
});
const change = (op: string, after: Record<string, unknown>) => ({
  op,
  before: null,
  after,
  ts_ms: 1,
  source: { connector: 'postgresql', db: 'app', schema: 'public', table: 'claims', lsn: 5, txId: 1, ts_ms: 1, snapshot: 'false' },
});

const index = new RuleIndex(
  parseRuleFile(
    `
tables:
  - { id: accounts, topic: accounts.changes, key: after.account_id }
rules:
  - { id: big, topic: tx, severity: high, keyBy: account_id, when: amount > 100 }
  - { id: away, topic: tx, severity: medium, lookup: { acct: { table: accounts, key: account_id } }, when: 'acct != null && country != acct.country' }
  - { id: night, topic: tx, severity: low, eventTime: ts, when: 'ts.getHours("UTC") < 5' }
  - { id: hot, topic: tx, severity: low, keyBy: account_id, when: amount > 1000, cooldown: 1m }
  - { id: burst, topic: claims, severity: high, filter: op == "c", keyBy: after.policy_id, eventTime: after.created_at, window: { type: tumbling, size: 5m }, aggregate: { n: count, total: sum(after.amount) }, when: n > 5 }
`,
    'r.yaml',
  ),
);
const accounts: Record<string, Record<string, unknown>> = { A1: { account_id: 'A1', country: 'DE' } };
const lookup = (table: string, key: string) => (table === 'accounts' ? accounts[key] : undefined);

describe('evaluateRecord', () => {
  it('presents the whole document as `event`, decimals as numbers, and a document field named event as it is', () => {
    const rules = new RuleIndex(
      parseRuleFile(
        `
rules:
  - { id: has-amount, topic: tx, severity: low, when: 'has(event.amount) && event.amount > 10 && !has(event.missing)' }
  - { id: own-event, topic: ev, severity: low, when: 'event == "login"' }
`,
        'r.yaml',
      ),
    );
    expect(evaluateRecord(rules, msg('tx', { amount: '12.5' }), lookup).alerts.map((a) => a.rule)).toEqual(['has-amount']);
    expect(evaluateRecord(rules, msg('tx', { amount: '9' }), lookup).alerts).toEqual([]);
    expect(evaluateRecord(rules, msg('ev', { event: 'login' }), lookup).alerts.map((a) => a.rule)).toEqual(['own-event']);
  });

  it('raises predicate alerts with the event, the looked-up row and the source', () => {
    const r = evaluateRecord(index, msg('tx', { account_id: 'A1', amount: '150.5', country: 'FR', ts: '2026-11-22T03:00:00Z' }), lookup);
    expect(r.alerts.map((a) => a.rule)).toEqual(['big', 'away', 'night']);
    expect(r.alerts[1].values).toEqual(expect.objectContaining({ amount: '150.5', acct: { account_id: 'A1', country: 'DE' } }));
    expect(r.alerts[0]).toEqual(
      expect.objectContaining({ key: 'A1', severity: 'high', sources: [{ topic: 'tx', partition: 1, offset: '7' }], eventTime: '2026-11-22T12:00:00.000Z' }),
    );
    expect(r.alerts[2].eventTime).toBe('2026-11-22T03:00:00.000Z');
    expect(r.evaluated).toBe(4);
    // Same record, same ids (a replay after a crash is recognisable downstream).
    expect(
      evaluateRecord(index, msg('tx', { account_id: 'A1', amount: '150.5', country: 'FR', ts: '2026-11-22T03:00:00Z' }), lookup).alerts.map((a) => a.id),
    ).toEqual(r.alerts.map((a) => a.id));
  });

  it('routes rules with a cooldown through the stateful stage instead of alerting directly', () => {
    const r = evaluateRecord(index, msg('tx', { account_id: 'A2', amount: 5000, country: 'FR', ts: '2026-11-22T12:00:00Z' }), lookup);
    expect(r.alerts.map((a) => a.rule)).toEqual(['big']);
    expect(r.forwarded).toEqual([expect.objectContaining({ r: 'hot', k: 'A2', a: expect.objectContaining({ rule: 'hot' }) })]);
  });

  it('projects change events of windowed rules, filtering on op', () => {
    const created = change('c', { policy_id: 42, amount: '12.50', created_at: '2026-11-22T00:01:00Z' });
    const r = evaluateRecord(index, msg('claims', created), lookup);
    expect(r.forwarded).toEqual([
      { r: 'burst', k: '42', t: Date.parse('2026-11-22T00:01:00Z'), s: { topic: 'claims', partition: 1, offset: '7' }, v: [null, 12.5] },
    ]);
    expect(evaluateRecord(index, msg('claims', change('u', { policy_id: 42, amount: '1', created_at: '2026-11-22T00:01:00Z' })), lookup).forwarded).toEqual([]);
  });

  it('dead-letters malformed records once, with a reason, and keeps evaluating other rules', () => {
    expect(evaluateRecord(index, msg('tx', '{"amount":'), lookup).deadLetter?.reason).toBe('malformed_json');
    expect(evaluateRecord(index, msg('tx', '"text"'), lookup).deadLetter?.reason).toBe('not_an_object');
    expect(evaluateRecord(index, msg('claims', { op: 'c', source: {} }), lookup).deadLetter?.reason).toBe('missing_field');
    const noTime = evaluateRecord(index, msg('tx', { account_id: 'A1', amount: 500, country: 'DE', ts: 'soon' }), lookup);
    expect(noTime.deadLetter).toEqual({ reason: 'event_time_invalid', error: expect.stringContaining('rule night') });
    expect(noTime.alerts.map((a) => a.rule)).toEqual(['big']);
    const noKey = evaluateRecord(index, msg('claims', change('c', { amount: '1', created_at: '2026-11-22T00:01:00Z' })), lookup);
    expect(noKey.deadLetter?.reason).toBe('key_missing');
  });

  it('counts evaluation errors (missing fields) as non-matches, and skips tombstones and other topics', () => {
    const r = evaluateRecord(index, msg('tx', { account_id: 'A9', country: 'FR', ts: '2026-11-22T12:00:00Z' }), lookup);
    expect(r.alerts).toEqual([]);
    expect(r.evaluationErrors).toEqual(['big', 'hot']);
    expect(evaluateRecord(index, msg('tx', null), lookup)).toEqual({ alerts: [], forwarded: [], evaluated: 0, evaluationErrors: [] });
    expect(evaluateRecord(index, msg('other', { a: 1 }), lookup).evaluated).toBe(0);
  });
});
