/**
 * A route's backpressure, event-driven: the batch handler waits until its sink's buffered bytes are
 * down to a mark, and is woken the moment an answer (or a finished upload) brings them there.
 */
import type { MessageBatch } from '@tideway/runtime';

/** Waiters for a byte count to fall to a mark; the owner calls `changed()` whenever the count went down. */
export class BufferRoom {
  private waiters: Array<{ mark: number; resolve: () => void }> = [];

  constructor(private readonly bytes: () => number) {}

  /** Resolves once the count is at most `mark` (at once if it already is). */
  atMost(mark: number): Promise<void> {
    if (this.bytes() <= mark) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ mark, resolve }));
  }

  changed(): void {
    if (this.waiters.length === 0) return;
    const now = this.bytes();
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (now <= w.mark) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

export interface HoldOptions {
  bufferedBytes: () => number;
  /** Resolves once the buffered bytes are at most the given mark. */
  bufferedAtMost: (mark: number) => Promise<void>;
  maxBufferedBytes: number;
  /** False once the route stops. */
  running: () => boolean;
  signal: AbortSignal;
  /**
   * While holding, how often the handler heartbeats (clients that heartbeat from the handler's
   * thread need it) and looks whether its batch was revoked or the consumer stops.
   */
  tickMs: number;
  onHeartbeatError: (err: unknown) => void;
  onBuffered?: (bytes: number) => void;
  /** Called with true when the hold starts and false when it ends. */
  onHold?: (holding: boolean) => void;
}

/**
 * Above `maxBufferedBytes` the batch handler does not return until the sink is down to half of it,
 * so no further batch is fetched. Resolves at once below the bound.
 */
export async function holdWhileFull(batch: Pick<MessageBatch, 'isRunning' | 'isStale' | 'heartbeat'>, o: HoldOptions): Promise<void> {
  let buffered = o.bufferedBytes();
  o.onBuffered?.(buffered);
  if (buffered < o.maxBufferedBytes) return;
  const resumeAt = o.maxBufferedBytes / 2;
  const room = o.bufferedAtMost(resumeAt);
  o.onHold?.(true);
  try {
    while (buffered > resumeAt && o.running() && !o.signal.aborted && batch.isRunning() && !batch.isStale()) {
      await firstOf(room, o.tickMs, o.signal);
      await batch.heartbeat().catch(o.onHeartbeatError);
      buffered = o.bufferedBytes();
      o.onBuffered?.(buffered);
    }
  } finally {
    o.onHold?.(false);
  }
}

/** Resolves when `p` resolves, after `ms`, or when the signal aborts, whichever is first. */
function firstOf(p: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void p.then(done);
  });
}
