import { parseRuleFile } from '../src/rules/rule-file';
import { reloadPlan } from '../src/rules-runner';

const rules = (extra = '', tables = '') =>
  parseRuleFile(
    `
${tables}
rules:
  - { id: hot, topic: c, severity: low, when: 'v > 1' }
${extra}
`,
    'r.yaml',
  );

describe('reloadPlan', () => {
  it('swaps rules in place when the input and table topics stay', () => {
    const next = rules('  - { id: cold, topic: c, severity: low, when: "v < 1" }');
    expect(reloadPlan(rules(), next)).toEqual({ inPlace: true, ensureTopics: false, newTables: false });
  });

  it('ensures the topics first when a sink topic is new', () => {
    const withSink = rules(`aggregations:
  - { id: agg, topic: c, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, sink: out }`);
    expect(reloadPlan(rules(), withSink)).toEqual({ inPlace: true, ensureTopics: true, newTables: false });
  });

  it('restarts the pipeline on a new input topic', () => {
    const next = rules('  - { id: other, topic: d, severity: low, when: "v > 1" }');
    expect(reloadPlan(rules(), next)).toEqual({ inPlace: false, ensureTopics: true, newTables: false });
  });
});

describe('reloadPlan with lookup tables', () => {
  it('restarts the pipeline and loads the tables again when a table changes', () => {
    const next = rules('', 'tables:\n  - { id: accounts, topic: accounts.changes, key: after.account_id }');
    expect(reloadPlan(rules(), next)).toEqual({ inPlace: false, ensureTopics: true, newTables: true });
  });
});
