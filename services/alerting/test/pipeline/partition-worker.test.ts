import { PartitionWorker, startingProgress, transactionalId, workerId } from '../../src/pipeline/partition-worker';
import { deferred, idleProducer, silentLogger } from '../support/pipeline-fixture';

describe('startingProgress', () => {
  it('reads no committed offset as none, and an empty partition as caught up', () => {
    expect(startingProgress(undefined, undefined)).toEqual({ committed: undefined, caughtUp: true });
    expect(startingProgress('-1', '0')).toEqual({ committed: undefined, caughtUp: true });
    expect(startingProgress('-1', '5')).toEqual({ committed: undefined, caughtUp: false });
  });

  it('is caught up when at most a transaction marker is left after the committed offset', () => {
    expect(startingProgress('10', '11')).toEqual({ committed: 10n, caughtUp: true });
    expect(startingProgress('10', '12')).toEqual({ committed: 10n, caughtUp: false });
  });
});

describe('PartitionWorker', () => {
  it('names its partition and its transactional id', () => {
    expect(workerId('t', 3)).toBe('t:3');
    expect(transactionalId('g', 't', 3)).toBe('g-t-3');
    expect(new PartitionWorker('t', 3, idleProducer(), 1000, () => undefined).id).toBe('t:3');
  });

  it('runs exclusive work one at a time, in order, and goes on after a failure', async () => {
    const w = new PartitionWorker('t', 0, idleProducer(), 1000, () => undefined);
    const order: string[] = [];
    const gate = deferred<void>();
    const first = w.exclusive(async () => {
      order.push('first starts');
      await gate.promise;
      order.push('first ends');
      throw new Error('first failed');
    });
    const second = w.exclusive(async () => void order.push('second'));
    await Promise.resolve();
    gate.resolve();
    await expect(first).rejects.toThrow('first failed');
    await second;
    expect(order).toEqual(['first starts', 'first ends', 'second']);
  });

  it('hands over its pending transaction and opens a new one', () => {
    const w = new PartitionWorker('t', 0, idleProducer(), 1000, () => undefined);
    w.pending.stateTouched = true;
    const taken = w.takePending();
    expect(taken.stateTouched).toBe(true);
    expect(w.pending).not.toBe(taken);
    expect(w.pending.empty).toBe(true);
  });

  it('closes once, even when its producer fails to disconnect', async () => {
    const producer = idleProducer(true);
    const w = new PartitionWorker('t', 0, producer, 1000, () => undefined);
    await w.close(silentLogger);
    await w.close(silentLogger);
    expect(w.closed).toBe(true);
    expect(producer.disconnects).toBe(1);
  });

  it('calls for a commit when its flush timer is due', () => {
    jest.useFakeTimers();
    try {
      const due: PartitionWorker[] = [];
      const w = new PartitionWorker('t', 0, idleProducer(), 1000, (x) => void due.push(x));
      w.flushTimer.schedule(Date.now());
      jest.advanceTimersByTime(1000);
      expect(due).toEqual([w]);
    } finally {
      jest.useRealTimers();
    }
  });
});
