import { OffsetTracker } from '../src/offset-tracker';

describe('OffsetTracker', () => {
  it('commits only up to the lowest offset not yet acknowledged', () => {
    const t = new OffsetTracker();
    const tokens = ['10', '11', '12', '13'].map((o) => t.track('t', 0, o));
    expect(t.committable()).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
    t.ack(tokens[1]);
    t.ack(tokens[2]);
    expect(t.commitPoint('t', 0)).toBe(10n);
    t.ack(tokens[0]);
    expect(t.commitPoint('t', 0)).toBe(13n);
    t.ack(tokens[3]);
    expect(t.committable()).toEqual([{ topic: 't', partition: 0, offset: '14' }]);
    t.markCommitted(t.committable());
    expect(t.committable()).toEqual([]);
  });

  it('does not lose the lowest pending offset when a batch is tracked after an acknowledgement', () => {
    const t = new OffsetTracker();
    const tokens = ['0', '1', '2'].map((o) => t.track('tp', 2, o));
    t.ack(tokens[0]);
    t.track('tp', 2, '3');
    expect(t.commitPoint('tp', 2)).toBe(1n);
  });

  it('keeps partitions independent', () => {
    const t = new OffsetTracker();
    const a = t.track('t', 0, '0');
    t.track('t', 1, '5');
    t.ack(a);
    expect(t.committable()).toEqual([
      { topic: 't', partition: 0, offset: '1' },
      { topic: 't', partition: 1, offset: '5' },
    ]);
  });

  it('starts a new epoch when Kafka hands out an offset again, ignoring stale acks', () => {
    const t = new OffsetTracker();
    const old = ['0', '1', '2'].map((o) => t.track('t', 0, o));
    t.ack(old[0]);
    // rebalance: consumption restarts at the committed offset 1
    const again = t.track('t', 0, '1');
    t.ack(old[1]);
    t.ack(old[2]);
    expect(t.commitPoint('t', 0)).toBe(1n);
    t.ack(again);
    expect(t.commitPoint('t', 0)).toBe(2n);
    expect(t.pendingCount()).toBe(0);
  });

  it('forgets partitions that are no longer owned', () => {
    const t = new OffsetTracker();
    t.track('t', 0, '0');
    t.track('t', 1, '0');
    t.retain([{ topic: 't', partition: 1 }]);
    expect(t.committable().map((o) => o.partition)).toEqual([1]);
  });
});
