import { eventually, waitFor } from '../../test-support/wait';

describe('waitFor', () => {
  it('returns the first value that is not undefined, null or false; a throw counts as not yet', async () => {
    let n = 0;
    const got = await waitFor(
      () => {
        n += 1;
        if (n === 1) throw new Error('transient');
        return n < 3 ? false : n;
      },
      { intervalMs: 1 },
    );
    expect(got).toBe(3);
  });

  it('fails after the deadline naming what it waited for, what was seen and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('broker gone');
        },
        { timeoutMs: 20, intervalMs: 5, what: 'the group', describe: () => 'lag 3' },
      ),
    ).rejects.toThrow(/the group not reached within 20 ms: lag 3; last error: broker gone/);
  });

  it('rethrows at once an error it is told waiting cannot cure', async () => {
    let calls = 0;
    const fatal = new Error('exited');
    await expect(
      waitFor(
        () => {
          calls += 1;
          throw fatal;
        },
        { timeoutMs: 60_000, stopOn: (e) => e === fatal },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });
});

describe('eventually', () => {
  it('fails with the description when the check never holds', async () => {
    await expect(
      eventually(
        () => false,
        () => 'saw 2 of 3',
        20,
      ),
    ).rejects.toThrow(/saw 2 of 3/);
  });
});
