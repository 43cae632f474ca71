/**
 * The process side of a private server for tests that stop and restart one (private-kafka.ts,
 * private-postgres.ts): spawn with output to a log file, wait until it serves, stop with a signal,
 * show the log's tail in errors.
 */
import { spawn, type SpawnOptions, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export class ServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    /** Named in errors, e.g. "private Kafka". */
    private readonly label: string,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns `command` (output appended to the log) and resolves once `serves()` holds; a throw counts as "not yet". */
  async start(command: string, args: string[], options: SpawnOptions, serves: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<void> {
    if (this.running) throw new Error(`${this.label} is already running`);
    const log = openSync(this.logFile, 'a');
    const child = spawn(command, args, { ...options, stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.label} exited during start-up:\n${this.logTail()}`);
      try {
        if (await serves()) return;
      } catch (err) {
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new Error(`${this.label} not ready after ${timeoutMs} ms (${String(lastErr)}):\n${this.logTail()}`);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
