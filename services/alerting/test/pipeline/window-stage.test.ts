import { RuleIndex, type ForwardedEvent } from '../../src/pipeline/input-evaluator';
import { PartitionState } from '../../src/pipeline/partition-state';
import { applyRepartitionRecords, evaluateWindowBatch } from '../../src/pipeline/window-stage';
import { parseRuleFile } from '../../src/rules/rule-file';
import { message, pendingContext, workerOn } from '../support/pipeline-fixture';

const M = 60_000;
const index = () =>
  new RuleIndex(
    parseRuleFile(
      `
rules:
  - { id: burst, topic: c, severity: high, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, when: 'n >= 2' }
`,
      'r.yaml',
    ),
  );
const ev = (k: string, minutes: number, offset: number): ForwardedEvent => ({
  r: 'burst',
  k,
  t: minutes * M,
  s: { topic: 'c', partition: 0, offset: String(offset) },
  v: [null],
});
const bundle = (partition: number, offset: number, events: ForwardedEvent[]) => message('g.repartition', partition, offset, JSON.stringify(events));

describe('applyRepartitionRecords', () => {
  it('applies every event of every bundle in order and sets malformed records apart', () => {
    const state = new PartitionState(index());
    const { out, malformed } = applyRepartitionRecords(state, [
      bundle(0, 0, [ev('a', 0, 0), ev('a', 1, 1)]),
      message('g.repartition', 0, 1, 'not a bundle'),
      bundle(0, 2, [ev('b', 6, 2)]),
    ]);
    expect(malformed.map((m) => m.message.offset)).toEqual(['1']);
    expect(state.watermark).toBe(6 * M);
    expect([state.size, state.changedKeys]).toEqual([2, 2]);
    // Windows close when the state advances (at commit), not while events are applied.
    expect(out.alerts).toEqual([]);
  });
});

describe('evaluateWindowBatch', () => {
  it('puts the output and dead letters in the pending transaction and records when the last event came', () => {
    const ctx = pendingContext();
    const w = workerOn('g.repartition', 0);
    w.state = new PartitionState(index());
    evaluateWindowBatch(w, [bundle(0, 0, [ev('a', 0, 0), ev('a', 1, 1), ev('a', 7, 2)]), message('g.repartition', 0, 1, '{')], ctx, 1234);
    expect(w.pending.records.map((r) => r.topic)).toEqual(['g.repartition.dlq']);
    expect(w.pending.bytes).toBe(64 * w.state.changedKeys);
    expect(w.pending.stateTouched).toBe(true);
    expect([w.lastEventWall, w.lastEventWatermark]).toEqual([1234, 7 * M]);
  });
});
