/**
 * What makes the service reload its rules file: SIGHUP, and a change of the file when
 * ALERTING_WATCH_RULES is on. A SIGHUP during start-up must not kill the process (its default
 * action): it is held and served once the service has started.
 */
import { unwatchFile, watchFile } from 'node:fs';

export interface ReloadTriggerOptions {
  rulesFile: string;
  watch: boolean;
  watchIntervalMs: number;
}

export class ReloadTriggers {
  private reload?: (why: string) => void;
  private hupPending = false;
  private readonly onHup = () => (this.reload ? this.reload('SIGHUP') : (this.hupPending = true));

  constructor(private readonly o: ReloadTriggerOptions) {
    process.on('SIGHUP', this.onHup);
  }

  /** Reloads are served from now on, starting with a SIGHUP held during start-up. */
  serve(reload: (why: string) => void): void {
    this.reload = reload;
    if (this.hupPending) reload('SIGHUP');
    if (this.o.watch) {
      const options = { interval: this.o.watchIntervalMs, persistent: false };
      watchFile(this.o.rulesFile, options, (cur, prev) => cur.mtimeMs !== prev.mtimeMs && reload('file changed'));
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHup);
    unwatchFile(this.o.rulesFile);
  }
}
