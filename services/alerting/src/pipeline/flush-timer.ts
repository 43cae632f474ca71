/**
 * When a partition's pending transaction is committed: ALERTING_COMMIT_INTERVAL_MS after it
 * opened, unless a batch commits it first. Commits run on this timer beside the fetch loop, so one
 * partition's transaction does not hold up the others' batches.
 */
export class FlushTimer {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly onDue: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** Due `intervalMs` after `openedAt`; a timer already set stays as it is. */
  schedule(openedAt: number): void {
    if (this.timer) return;
    const due = Math.max(0, openedAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onDue();
    }, due);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
