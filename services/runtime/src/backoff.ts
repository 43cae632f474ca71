/** Exponential backoff with full jitter (AWS architecture blog's recommendation). */

export interface BackoffPolicy {
  /** First delay bound in ms. */
  initialMs: number;
  /** Largest delay bound in ms. */
  maxMs: number;
  /** Growth factor per attempt. */
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 30_000, multiplier: 2 };

/** Delay before retry number `attempt` (0-based); `random` in [0,1) is injectable for tests. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.multiplier, Math.max(0, attempt)));
  return Math.floor(random() * cap);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  policy?: BackoffPolicy;
  signal?: AbortSignal;
  /** Return false to stop retrying and rethrow. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, the signal aborts, or `shouldRetry` says no. */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted || (opts.shouldRetry && !opts.shouldRetry(err, attempt))) throw err;
      const delay = backoffDelayMs(attempt, opts.policy);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}
