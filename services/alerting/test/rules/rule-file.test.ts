import { RuleFileError } from '../../src/errors';
import { parseRuleFile } from '../../src/rules/rule-file';

const ok = (yaml: string) => parseRuleFile(yaml, 'r.yaml');
const problem = (yaml: string) => {
  try {
    parseRuleFile(yaml, 'r.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RuleFileError);
    return (err as Error).message;
  }
  throw new Error('expected a RuleFileError');
};

const ISSUE_EXAMPLE = `
rules:
  - id: amount-over-threshold
    topic: transactions
    severity: high
    when: amount > 50000
  - id: country-mismatch
    topic: transactions
    severity: medium
    when: country != account_country
  - id: night-hours
    topic: transactions
    severity: low
    eventTime: ts
    when: timestamp(ts).getHours("UTC") >= 23 || timestamp(ts).getHours("UTC") < 5
  - id: claim-burst
    topic: claims.changes
    severity: high
    filter: op == "c"
    keyBy: after.policy_id
    eventTime: after.created_at
    window: { type: sliding, size: 10m, allowedLateness: 1m }
    aggregate: { claims: count, total: sum(after.amount) }
    when: claims > 5
    cooldown: 15m
aggregations:
  - id: claims-5min
    topic: claims.changes
    filter: op == "c"
    keyBy: after.policy_id
    eventTime: after.created_at
    window: { type: tumbling, size: 5m }
    aggregate: { count: count, total_amount: sum(after.amount) }
    sink: claims.aggregated.5min
notifiers:
  - type: webhook
    url: http://127.0.0.1:9999/hook
    severities: [high, medium]
`;

describe('parseRuleFile', () => {
  it('accepts the documented example as it is', () => {
    const rs = ok(ISSUE_EXAMPLE);
    expect(rs.rules.map((r) => `${r.id}:${r.kind}`)).toEqual([
      'amount-over-threshold:predicate',
      'country-mismatch:predicate',
      'night-hours:predicate',
      'claim-burst:windowed',
      'claims-5min:aggregation',
    ]);
    const burst = rs.rules[3];
    expect(burst.kind === 'windowed' && burst.window).toEqual({ type: 'sliding', sizeMs: 600_000, advanceMs: 600_000, gapMs: 0, allowedLatenessMs: 60_000 });
    expect(burst.kind === 'windowed' && burst.cooldownMs).toBe(900_000);
    expect(burst.kind === 'windowed' && burst.aggregates).toEqual([
      { name: 'claims', fn: 'count' },
      { name: 'total', fn: 'sum', path: 'after.amount' },
    ]);
    expect(rs.inputTopics).toEqual(['transactions', 'claims.changes']);
    expect(rs.outputTopics).toEqual(['claims.aggregated.5min']);
    expect(rs.notifiers).toEqual([{ name: 'webhook-0', type: 'webhook', url: 'http://127.0.0.1:9999/hook', severities: ['high', 'medium'], rules: [] }]);
    const agg = rs.rules[4];
    expect(agg.kind === 'aggregation' && agg.emit).toBe('final');
  });

  it.each([
    ['rules:\n  - id: a\n    topic: t\n    severity: high\n', 'r.yaml: rules[0] (a).when: is required (a CEL condition)'],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: urgent\n    when: x > 1\n',
      'r.yaml: rules[0] (a).severity: must be one of critical, high, medium, low, info, got "urgent"',
    ],
    ['rules:\n  - id: a\n    topic: t\n    severity: high\n    when: "x >"\n', 'r.yaml: rules[0] (a).when: invalid CEL'],
    ['rules:\n  - id: a\n    topic: t\n    severity: high\n    when: x > 1\n    windw: {}\n', 'r.yaml: rules[0] (a).windw: unknown field'],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    window: { type: session, size: 5m }\n    aggregate: { n: count }\n    when: n > 1\n',
      'r.yaml: rules[0] (a).window.gap: is required for a session window',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    window: { type: hopping, size: 5m, advance: 10m }\n    aggregate: { n: count }\n    when: n > 1\n',
      'r.yaml: rules[0] (a).window.advance: must be greater than 0 and at most the size',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    window: { type: tumbling, size: 5 minutes }\n    aggregate: { n: count }\n    when: n > 1\n',
      'r.yaml: rules[0] (a).window.size: expected a duration',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    window: { type: tumbling, size: 5m }\n    aggregate: { n: median(x) }\n    when: n > 1\n',
      'r.yaml: rules[0] (a).aggregate.n: must be count or one of sum, avg, min, max, count_distinct',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    window: { type: tumbling, size: 5m }\n    aggregate: { n: count }\n    when: claims > 1\n',
      'r.yaml: rules[0] (a).when: may only use the aggregates (n)',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    when: x > 1\n  - id: a\n    topic: t\n    severity: high\n    when: x > 2\n',
      'r.yaml: rules[1].id: duplicate id "a"',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    when: x > 1\n    lookup: { acct: { table: accounts, key: account_id } }\n',
      'r.yaml: rules[0] (a).lookup.acct.table: no table "accounts"',
    ],
    [
      'aggregations:\n  - id: g\n    topic: t\n    window: { type: tumbling, size: 5m }\n    aggregate: { n: count }\n',
      'r.yaml: aggregations[0] (g).sink: is required',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    when: x > 1\nnotifiers:\n  - { type: pager, url: "http://x" }\n',
      'r.yaml: notifiers[0].type: must be webhook, slack or alertmanager',
    ],
    [
      'rules:\n  - id: a\n    topic: t\n    severity: high\n    when: x > 1\nnotifiers:\n  - { type: webhook, url: "ftp://x" }\n',
      'r.yaml: notifiers[0].url: must be an http:// or https:// URL',
    ],
    ['rules: []\n', 'r.yaml: rules: the file defines no rules and no aggregations'],
    ['rulez: []\n', 'r.yaml: rulez: unknown section'],
  ])('rejects %j naming the rule and field', (yaml, message) => {
    expect(problem(yaml)).toContain(message);
  });

  it('accepts every window type and aggregate function', () => {
    const rs = ok(`aggregations:
  - { id: t, topic: x, sink: o, window: { type: tumbling, size: 1m }, aggregate: { a: count } }
  - { id: h, topic: x, sink: o, window: { type: hopping, size: 10m, advance: 1m }, aggregate: { a: sum(v), b: avg(v) } }
  - { id: s, topic: x, sink: o, window: { type: sliding, size: 30s }, aggregate: { a: min(v), b: max(v) } }
  - { id: g, topic: x, sink: o, window: { type: session, gap: 5m, allowedLateness: 10s }, aggregate: { a: count_distinct(user.id) }, emit: update, lateTopic: late }
`);
    expect(rs.rules.map((r) => (r.kind === 'aggregation' ? r.window.type : ''))).toEqual(['tumbling', 'hopping', 'sliding', 'session']);
    expect(rs.outputTopics).toEqual(['o', 'late']);
  });
});
