import { advanceIdlePartitions, idleWatermark, isIdle, worthCommitting } from '../../src/pipeline/idle-advance';
import { RuleIndex } from '../../src/pipeline/input-evaluator';
import { emptyOutput, PartitionState } from '../../src/pipeline/partition-state';
import type { PartitionWorker } from '../../src/pipeline/partition-worker';
import { parseRuleFile } from '../../src/rules/rule-file';
import { workerOn } from '../support/pipeline-fixture';

const M = 60_000;

describe('isIdle', () => {
  const p = { caughtUp: true, lastEventWall: 1000, lastEventWatermark: 5 * M };
  it('needs the partition caught up, quiet for the idle timeout, and an event seen', () => {
    expect(isIdle(p, 1000 + 30_000, 30_000)).toBe(true);
    expect(isIdle(p, 1000 + 29_999, 30_000)).toBe(false);
    expect(isIdle({ ...p, caughtUp: false }, 1e9, 30_000)).toBe(false);
    expect(isIdle({ ...p, lastEventWatermark: -Infinity }, 1e9, 30_000)).toBe(false);
  });
});

describe('idleWatermark', () => {
  it('moves with the wall clock since the last event, or to the most advanced partition, whichever is later', () => {
    const p = { caughtUp: true, lastEventWall: 1000, lastEventWatermark: 5 * M };
    expect(idleWatermark(-Infinity, p, 1000 + M)).toBe(6 * M);
    expect(idleWatermark(9 * M, p, 1000 + M)).toBe(9 * M);
  });
});

describe('worthCommitting', () => {
  it('is false for a watermark move alone', () => {
    expect(worthCommitting(emptyOutput(), 0)).toBe(false);
    expect(worthCommitting(emptyOutput(), 1)).toBe(true);
    expect(worthCommitting({ ...emptyOutput(), records: [{ topic: 't', key: null, value: 'v' }] }, 0)).toBe(true);
  });
});

describe('advanceIdlePartitions', () => {
  const rules = () =>
    new RuleIndex(
      parseRuleFile(
        `
rules:
  - { id: burst, topic: c, severity: high, keyBy: k, window: { type: tumbling, size: 5m }, aggregate: { n: count }, when: 'n >= 1' }
`,
        'r.yaml',
      ),
    );
  function stateWorker(partition: number, eventMinute: number): PartitionWorker {
    const w = workerOn('g.repartition', partition);
    w.state = new PartitionState(rules());
    const out = emptyOutput();
    w.state.apply({ r: 'burst', k: `k${partition}`, t: eventMinute * M, s: { topic: 'c', partition: 0, offset: '0' }, v: [null] }, out);
    w.state.takeChangelog('g.changelog', partition);
    w.caughtUp = true;
    w.lastEventWall = 0;
    w.lastEventWatermark = w.state.watermark;
    return w;
  }

  it('closes the windows of an idle partition at the most advanced watermark and commits them', async () => {
    const behind = stateWorker(0, 1);
    const ahead = stateWorker(1, 20);
    const committed: number[] = [];
    await advanceIdlePartitions([behind, ahead], [], {
      idleTimeoutMs: 1000,
      isStopped: () => false,
      addOutput: (w, out) => w.pending.addStateOutput(out, 0, { alertsTopic: 'alerts' } as never),
      commit: async (w) => void committed.push(w.partition),
      onFailure: (_w, err) => {
        throw err;
      },
      now: () => 2000,
    });
    expect(committed).toEqual([0]);
    expect(behind.state!.watermark).toBe(20 * M);
  });

  it('advances nothing while an input partition of this instance has a backlog', async () => {
    const behind = stateWorker(0, 1);
    const busyInput = workerOn('in', 0);
    busyInput.caughtUp = false;
    const commit = jest.fn(async () => undefined);
    const deps = { idleTimeoutMs: 1000, isStopped: () => false, addOutput: () => undefined, commit, onFailure: () => undefined, now: () => 1e9 };
    await advanceIdlePartitions([behind, stateWorker(1, 20)], [busyInput], deps);
    expect(commit).not.toHaveBeenCalled();
    expect(behind.state!.watermark).toBe(1 * M);
  });
});
