import { backoffDelayMs, retryWithBackoff } from '../src/backoff';

describe('backoffDelayMs', () => {
  const policy = { initialMs: 100, maxMs: 1000, multiplier: 2 };
  it('grows exponentially up to the cap (upper bound with random≈1)', () => {
    const almostOne = () => 0.999999;
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, policy, almostOne))).toEqual([99, 199, 399, 799, 999, 999]);
  });
  it('is jittered down to zero', () => {
    expect(backoffDelayMs(5, policy, () => 0)).toBe(0);
  });
});

describe('retryWithBackoff', () => {
  it('retries until success', async () => {
    let calls = 0;
    const result = await retryWithBackoff(
      async () => {
        if (++calls < 3) throw new Error('transient');
        return 'ok';
      },
      { policy: { initialMs: 1, maxMs: 2, multiplier: 2 } },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });
  it('stops when shouldRetry says no', async () => {
    await expect(retryWithBackoff(async () => Promise.reject(new Error('fatal')), { shouldRetry: () => false })).rejects.toThrow('fatal');
  });
});
