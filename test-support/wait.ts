/**
 * Waiting for a condition in integration tests: poll until it holds, with a generous deadline
 * (a deadline only bounds a hung test; it never decides what a test asserts).
 *
 *   waitFor(fn, { timeoutMs, intervalMs, what })   poll until fn returns a value; return it
 *   eventually(check, describe, timeoutMs)          poll a boolean; on timeout say what was seen
 */

export interface WaitForOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 200 ms). */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** Called once on timeout; its text goes into the error (e.g. what was seen instead). */
  describe?: () => string | Promise<string>;
  /** An error for which waiting is pointless (e.g. the process watched has exited): rethrown at once. */
  stopOn?: (err: unknown) => boolean;
}

/**
 * Calls `fn` until it returns a value other than `undefined`, `null` or `false`, and returns
 * that value. A throw counts as "not yet" (a poll can meet a transient broker error); the last
 * error is reported on timeout.
 */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitForOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      if (options.stopOn?.(err)) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = options.describe ? `: ${await Promise.resolve(options.describe()).catch((err: unknown) => `(describe failed: ${String(err)})`)}` : '';
      const cause = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`${what} not reached within ${timeoutMs} ms${detail}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls `check` until it returns true; on timeout fails with `describe()` (what was seen instead). */
export async function eventually(check: () => boolean | Promise<boolean>, describe: () => string | Promise<string>, timeoutMs = 60_000): Promise<void> {
  await waitFor(check, { timeoutMs, describe });
}
