import { RuleIndex, type ForwardedEvent } from '../../src/pipeline/input-evaluator';
import { emptyOutput, PartitionState } from '../../src/pipeline/partition-state';
import { fingerprintOf, parseRuleFile } from '../../src/rules/rule-file';

const M = 60_000;
const rules = (burstWhen = 'n >= 2') =>
  new RuleIndex(
    parseRuleFile(
      `
rules:
  - { id: burst, topic: c, severity: high, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, when: '${burstWhen}', cooldown: 10m }
  - { id: hot, topic: c, severity: low, keyBy: k, when: 'v > 1', cooldown: 1m }
aggregations:
  - { id: agg, topic: c, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, sink: out, having: 'n > 1' }
`,
      'r.yaml',
    ),
  );
const ev = (r: string, k: string, minutes: number, offset: number, extra: Partial<ForwardedEvent> = {}): ForwardedEvent => ({
  r,
  k,
  t: minutes * M,
  s: { topic: 'c', partition: 0, offset: String(offset) },
  v: [null],
  ...extra,
});

describe('PartitionState', () => {
  it('alerts once per window, applies the cooldown in event time, and publishes aggregations with having', () => {
    const st = new PartitionState(rules());
    const out = emptyOutput();
    for (const [i, t] of [0, 1, 6, 7, 16, 17].entries()) {
      st.apply(ev('burst', 'a', t, i), out);
      st.apply(ev('agg', 'a', t, i), out);
    }
    st.advance(out, 30 * M);
    // windows [0,5), [5,10), [15,20) each hold 2; [5,10) ends inside the cooldown of [0,5) (5m + 10m).
    expect(out.alerts.map((a) => a.window?.start)).toEqual(['1970-01-01T00:00:00.000Z', '1970-01-01T00:15:00.000Z']);
    expect(out.suppressed).toEqual([{ rule: 'burst' }]);
    expect(out.records.map((r) => r.topic)).toEqual(['out', 'out', 'out']);
    expect(JSON.parse(out.records[0].value as string)).toEqual({
      aggregation: 'agg',
      key: 'a',
      window: { type: 'tumbling', start: '1970-01-01T00:00:00.000Z', end: '1970-01-01T00:05:00.000Z' },
      values: { n: 2 },
      final: true,
      sourceCount: 2,
    });
  });

  it('gates predicate alerts with a cooldown per key', () => {
    const st = new PartitionState(rules());
    const out = emptyOutput();
    const alert = (id: string) => ({
      id,
      rule: 'hot',
      severity: 'low' as const,
      title: 'hot',
      key: 'a',
      eventTime: '',
      values: {},
      sources: [],
      sourceCount: 1,
    });
    st.apply(ev('hot', 'a', 0, 1, { v: undefined, a: alert('x1') }), out);
    st.apply(ev('hot', 'a', 0.5, 2, { v: undefined, a: alert('x2') }), out);
    st.apply(ev('hot', 'b', 0.5, 3, { v: undefined, a: alert('x3') }), out);
    st.apply(ev('hot', 'a', 1, 4, { v: undefined, a: alert('x4') }), out);
    expect(out.alerts.map((a) => a.id)).toEqual(['x1', 'x3', 'x4']);
  });

  it('comes back identical from its changelog', () => {
    const st = new PartitionState(rules());
    const out = emptyOutput();
    st.apply(ev('agg', 'a', 1, 1), out);
    st.apply(ev('agg', 'b', 2, 2), out);
    const log = st.takeChangelog('cl', 3);
    expect(log.every((r) => r.topic === 'cl' && r.partition === 3)).toBe(true);
    const copy = new PartitionState(rules());
    for (const r of log) copy.restore(String(r.key), r.value as string | null);
    expect(copy.watermark).toBe(2 * M);
    for (const s of [st, copy]) s.apply(ev('agg', 'a', 3, 3), out);
    const [o1, o2] = [emptyOutput(), emptyOutput()];
    st.advance(o1, 10 * M);
    copy.advance(o2, 10 * M);
    expect(o2.records).toEqual(o1.records);
    expect(o1.records.map((r) => JSON.parse(r.value as string).values)).toEqual([{ n: 2 }]);
    // Closed windows are removed, and the changelog says so with tombstones.
    expect(
      st
        .takeChangelog('cl', 3)
        .filter((r) => r.key !== '\u0000meta')
        .map((r) => r.value),
    ).toEqual([null, null]);
  });

  it('keeps state from changelogs that carry the unhashed definition (written by earlier versions)', () => {
    const st = new PartitionState(rules());
    st.apply(ev('agg', 'a', 1, 1), emptyOutput());
    const [rec] = st.takeChangelog('cl', 0).filter((r) => r.key !== '\u0000meta');
    const entry = JSON.parse(rec.value as string) as { fp: string };
    expect(entry.fp).toHaveLength(16);
    const index = rules();
    const agg = index.stateful.get('agg')!;
    // What earlier versions wrote as `fp`: the definition itself.
    const legacy = JSON.stringify([agg.topic, agg.keyBy ?? '', agg.eventTime ?? '', agg.filter?.source ?? '', agg.window, agg.aggregates]);
    expect(fingerprintOf(legacy)).toBe(agg.fingerprint);
    const copy = new PartitionState(index);
    copy.restore(String(rec.key), JSON.stringify({ ...entry, fp: legacy }));
    const out = emptyOutput();
    copy.apply(ev('agg', 'a', 2, 2), out);
    copy.advance(out, 10 * M);
    expect(out.records.map((r) => JSON.parse(r.value as string).values)).toEqual([{ n: 2 }]);
  });

  it('drops state of a rule whose window changed on reload', () => {
    const st = new PartitionState(rules());
    const out = emptyOutput();
    st.apply(ev('burst', 'a', 1, 1), out);
    st.setRules(rules('n >= 5'));
    st.advance(out, 2 * M);
    expect(st.size).toBe(1); // the condition changed, the window did not: state kept
    const changed = new RuleIndex(
      parseRuleFile(
        `rules:\n  - { id: burst, topic: c, severity: high, keyBy: k, window: { type: tumbling, size: 10m }, aggregate: { n: count }, when: n > 1 }\n`,
        'r.yaml',
      ),
    );
    st.setRules(changed);
    st.advance(out, 3 * M);
    expect(st.size).toBe(0);
  });

  it('counts late events and routes them to the late topic when configured', () => {
    const idx = new RuleIndex(
      parseRuleFile(
        `aggregations:\n  - { id: agg, topic: c, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, sink: out, lateTopic: late }\n`,
        'r.yaml',
      ),
    );
    const st = new PartitionState(idx);
    const out = emptyOutput();
    st.apply(ev('agg', 'a', 10, 1), out);
    st.apply(ev('agg', 'a', 1, 2), out);
    expect(out.late).toEqual([{ rule: 'agg' }]);
    expect(out.records).toEqual([expect.objectContaining({ topic: 'late', key: 'a' })]);
  });
});
