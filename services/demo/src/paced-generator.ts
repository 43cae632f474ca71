/**
 * Writes generated changes at a steady rate: every tick it writes what is due since the start
 * (so a slow write is caught up with bigger batches, never with a burst above the batch size).
 */
import { DEFAULT_BACKOFF, retryWithBackoff, sleep } from '@tideway/runtime';
import type { Change, ChangeGenerator } from './generator';

export interface PacedGeneratorOptions {
  rate: number;
  batchMaxChanges: number;
  /** 0 = no limit. */
  maxChanges: number;
  /** 0 = no limit. */
  durationMs: number;
  signal: AbortSignal;
  now?: () => number;
}

export interface ChangeSink {
  write(changes: readonly Change[]): Promise<void>;
}

/** How many changes are due at `elapsedMs`, given how many are written. Pure. */
export function changesDue(elapsedMs: number, rate: number, written: number, maxChanges: number, batchMax: number): number {
  let due = Math.floor((elapsedMs / 1000) * rate) - written;
  if (maxChanges > 0) due = Math.min(due, maxChanges - written);
  return Math.max(0, Math.min(due, batchMax));
}

/** Runs until the limit, the duration or the signal; resolves with the number of changes written. */
export async function runPacedGenerator(
  generator: ChangeGenerator,
  sink: ChangeSink,
  opts: PacedGeneratorOptions,
  onWritten: (batch: readonly Change[]) => void,
  onRetry: (err: unknown, attempt: number) => void,
): Promise<number> {
  const now = opts.now ?? Date.now;
  const start = now();
  let written = 0;
  const tickMs = Math.max(10, Math.min(200, 1000 / opts.rate));
  while (!opts.signal.aborted) {
    const elapsed = now() - start;
    if (opts.maxChanges > 0 && written >= opts.maxChanges) break;
    if (opts.durationMs > 0 && elapsed >= opts.durationMs) break;
    const due = changesDue(elapsed, opts.rate, written, opts.maxChanges, opts.batchMaxChanges);
    if (due === 0) {
      // Rejects only on abort, which ends the loop.
      await sleep(tickMs, opts.signal).catch(() => undefined);
      continue;
    }
    const batch = generator.take(due, new Date(now()));
    // A batch is retried until it commits (inserts are idempotent): nothing generated is skipped.
    const policy = { ...DEFAULT_BACKOFF, maxMs: 10_000 };
    await retryWithBackoff(() => sink.write(batch), { policy, signal: opts.signal, onRetry: (err, attempt) => onRetry(err, attempt) });
    written += batch.length;
    onWritten(batch);
  }
  return written;
}
