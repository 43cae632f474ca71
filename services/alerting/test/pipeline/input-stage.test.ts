import type { BatchEvaluation } from '../../src/pipeline/batch-evaluation';
import { InputStage, type InputStageDeps } from '../../src/pipeline/input-stage';
import type { PartitionWorker } from '../../src/pipeline/partition-worker';
import { batchOf, deferred, message, pendingContext, silentLogger, workerOn } from '../support/pipeline-fixture';

const result = (alertKey: string): BatchEvaluation => ({
  alertRecords: [{ topic: 'alerts', key: alertKey, value: '{}' }],
  alertCounts: [],
  forwarded: [],
  bytes: 10,
  deadLetters: [],
  evaluationErrors: [],
  seconds: 0,
});

function stage(evaluations: Array<Promise<BatchEvaluation>>, over: Partial<InputStageDeps> = {}) {
  const log: string[] = [];
  const deps: InputStageDeps = {
    evaluate: () => evaluations.shift()!,
    pendingContext: pendingContext(),
    logger: silentLogger,
    maxInFlight: 4,
    isStopped: () => false,
    seek: (w, offset) => void log.push(`seek ${w.id} ${offset}`),
    discard: async (w) => void log.push(`discard ${w.id}`),
    commitOrSchedule: async (w) => void log.push(`schedule ${w.id}`),
    onMergeFailure: (_w, err) => void log.push(`merge failed ${String(err)}`),
    ...over,
  };
  return { stage: new InputStage(deps), log };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('InputStage', () => {
  it('merges results in the order batches were sent, whatever order evaluations finish in', async () => {
    const first = deferred<BatchEvaluation>();
    const second = deferred<BatchEvaluation>();
    const { stage: s, log } = stage([first.promise, second.promise]);
    const w = workerOn('in', 0);
    await s.dispatch(w, batchOf([message('in', 0, 0, 'a')]));
    await s.dispatch(w, batchOf([message('in', 0, 1, 'b')]));
    expect(w.position).toBe(2n);
    second.resolve(result('second'));
    await settle();
    expect(w.pending.records).toEqual([]);
    first.resolve(result('first'));
    await settle();
    expect(w.pending.records.map((r) => r.key)).toEqual(['first', 'second']);
    expect([w.pending.base, w.pending.next]).toEqual(['0', '2']);
    expect(log).toEqual(['schedule in:0', 'schedule in:0']);
    expect(s.batchesInFlight).toBe(0);
  });

  it('waits while as many batches as allowed are out', async () => {
    const first = deferred<BatchEvaluation>();
    const { stage: s } = stage([first.promise, Promise.resolve(result('b'))], { maxInFlight: 2 });
    const w = workerOn('in', 0);
    await s.dispatch(w, batchOf([message('in', 0, 0, 'a')]));
    let returned = false;
    const second = s.dispatch(w, batchOf([message('in', 0, 1, 'b')])).then(() => (returned = true));
    await settle();
    expect(returned).toBe(false);
    first.resolve(result('a'));
    await second;
    expect(returned).toBe(true);
  });

  it('after a failed evaluation, restarts the partition from the first uncommitted offset and merges nothing of it', async () => {
    const { stage: s, log } = stage([Promise.resolve(result('ok')), Promise.reject(new Error('thread died'))]);
    const w: PartitionWorker = workerOn('in', 0);
    await s.dispatch(w, batchOf([message('in', 0, 3, 'a')]));
    await s.dispatch(w, batchOf([message('in', 0, 4, 'b')]));
    await settle();
    expect(log).toEqual(['schedule in:0', 'seek in:0 3', 'discard in:0']);
    expect(w.pending.records.map((r) => r.key)).toEqual(['ok']);
  });

  it('reports a merge whose commit failed', async () => {
    const { stage: s, log } = stage([Promise.resolve(result('a'))], {
      commitOrSchedule: async () => {
        throw new Error('commit failed');
      },
    });
    await s.dispatch(workerOn('in', 0), batchOf([message('in', 0, 0, 'a')]));
    await settle();
    expect(log).toEqual(['merge failed Error: commit failed']);
  });
});
