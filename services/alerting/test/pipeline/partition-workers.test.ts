import { assignmentChange, PartitionWorkers, settled } from '../../src/pipeline/partition-workers';
import { workerOn } from '../support/pipeline-fixture';

describe('assignmentChange', () => {
  it('revokes what is no longer assigned and opens the new partitions, state partitions apart', () => {
    const owned = ['in:0', 'in:1', 'g.repartition:0'];
    const assigned = [
      { topic: 'in', partition: 1 },
      { topic: 'in', partition: 2 },
      { topic: 'g.repartition', partition: 0 },
      { topic: 'g.repartition', partition: 3 },
    ];
    expect(assignmentChange(owned, assigned, 'g.repartition')).toEqual({ revoked: ['in:0'], freshState: [3], freshInput: [{ topic: 'in', partition: 2 }] });
  });
});

describe('PartitionWorkers', () => {
  it('lists the workers that started and leaves out one that failed', async () => {
    const workers = new PartitionWorkers();
    const ok = workerOn('in', 0);
    workers.set('in:0', Promise.resolve(ok));
    workers.set('in:1', Promise.reject(new Error('fencing failed')));
    expect(await workers.started()).toEqual([ok]);
    expect(await settled(workers.get('in:1')!)).toBeUndefined();
  });

  it('forgets a worker only while its entry still holds it', async () => {
    const workers = new PartitionWorkers();
    const old = workerOn('in', 0);
    const replacement = workerOn('in', 0);
    workers.set('in:0', Promise.resolve(replacement));
    await workers.forget(old);
    expect(workers.ids()).toEqual(['in:0']);
    await workers.forget(replacement);
    expect(workers.ids()).toEqual([]);
  });

  it('takes entries out', () => {
    const workers = new PartitionWorkers();
    workers.set('a:0', Promise.resolve(workerOn('a', 0)));
    workers.set('b:0', Promise.resolve(workerOn('b', 0)));
    expect(workers.take('a:0')).toBeDefined();
    expect(workers.takeAll()).toHaveLength(1);
    expect(workers.ids()).toEqual([]);
  });
});
