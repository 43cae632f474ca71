/**
 * Keeps the `warehouse` readiness check true to the warehouse while no batch is applied: batches
 * report the outcome of each write, but a loader with nothing to apply (its sources are quiet, or
 * down with the same database) would otherwise stay ready through a warehouse outage.
 */
import { errorMessage, type Logger } from '@tideway/runtime';

export interface WarehouseWatchOptions {
  ping(): Promise<void>;
  setReady(ready: boolean): void;
  logger: Pick<Logger, 'warn' | 'info'>;
}

export class WarehouseWatch {
  private pinging = false;
  private up = true;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: WarehouseWatchOptions) {}

  /** Pings every `intervalMs` until `signal` aborts. */
  start(intervalMs: number, signal: AbortSignal): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    signal.addEventListener('abort', () => clearInterval(this.timer), { once: true });
  }

  /** One ping (skipped while the previous one is still out); readiness follows its outcome. */
  async tick(): Promise<void> {
    if (this.pinging) return;
    this.pinging = true;
    try {
      await this.o.ping();
      this.o.setReady(true);
      if (!this.up) this.o.logger.info('warehouse reachable again');
      this.up = true;
    } catch (err) {
      this.o.setReady(false);
      if (this.up) this.o.logger.warn({ err: errorMessage(err) }, 'warehouse not reachable; not ready until it is');
      this.up = false;
    } finally {
      this.pinging = false;
    }
  }
}
