import { FlushTimer } from '../../src/pipeline/flush-timer';

describe('FlushTimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('is due the interval after the transaction opened, once, and a second schedule keeps the first timer', () => {
    let now = 10_000;
    let due = 0;
    const timer = new FlushTimer(
      1000,
      () => due++,
      () => now,
    );
    timer.schedule(9_700); // opened 300 ms ago: due in 700 ms
    now = 10_100;
    timer.schedule(10_100);
    jest.advanceTimersByTime(699);
    expect(due).toBe(0);
    jest.advanceTimersByTime(1);
    expect(due).toBe(1);
    expect(timer.scheduled).toBe(false);
    jest.advanceTimersByTime(5000);
    expect(due).toBe(1);
  });

  it('is due at once when the interval is already over, and never after cancel()', () => {
    let due = 0;
    const timer = new FlushTimer(
      1000,
      () => due++,
      () => 5000,
    );
    timer.schedule(0);
    jest.advanceTimersByTime(0);
    expect(due).toBe(1);
    timer.schedule(4500);
    timer.cancel();
    jest.advanceTimersByTime(5000);
    expect(due).toBe(1);
  });
});
