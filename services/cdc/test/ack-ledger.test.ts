import { AckLedger } from '../src/ack-ledger';

describe('AckLedger', () => {
  it('makes a position safe only after every record before it is acknowledged', () => {
    const l = new AckLedger();
    l.append(3);
    l.mark(100n, 1);
    l.append(2);
    l.mark(200n, 2);
    expect(l.acknowledge(2)).toBeUndefined();
    expect(l.acknowledge(3)).toEqual({ lsn: 100n, commitTimesMs: [1] });
    expect(l.acknowledge(4)).toBeUndefined();
    expect(l.acknowledge(5)).toEqual({ lsn: 200n, commitTimesMs: [2] });
    expect(l.unacknowledged).toBe(0);
  });

  it('reports the newest of several positions that became safe at once, with all their commit times', () => {
    const l = new AckLedger();
    l.append(1);
    l.mark(10n, 1);
    l.mark(11n); // keepalive: no commit time
    l.append(1);
    l.mark(12n, 3);
    expect(l.acknowledge(2)).toEqual({ lsn: 12n, commitTimesMs: [1, 3] });
  });

  it('a position marked with nothing outstanding is safe at once', () => {
    const l = new AckLedger();
    l.mark(5n);
    expect(l.acknowledge(0)).toEqual({ lsn: 5n, commitTimesMs: [] });
  });

  it('refuses acknowledgements beyond what was appended', () => {
    const l = new AckLedger();
    l.append(1);
    expect(() => l.acknowledge(2)).toThrow(/only 1/);
  });
});
