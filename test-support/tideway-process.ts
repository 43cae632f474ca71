/**
 * Runs `tideway <service>` as a real child process (built `dist/`), for tests that kill it
 * with SIGKILL, stop it with SIGTERM, or check its exit code and stderr.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port';

export const TIDEWAY_BIN = join(__dirname, '..', 'bin', 'tideway.js');

export interface TidewayRunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs to completion (for --help and bad-config checks). */
export function runTidewaySync(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): TidewayRunResult {
  const r = spawnSync(process.execPath, [TIDEWAY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export class TidewayProcess {
  readonly output: string[] = [];
  private exitPromise: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly metricsPort: number,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ? null : code)));
  }

  /** Starts `tideway <service>` with the given env on top of the current one, on a free metrics port. */
  static async start(service: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<TidewayProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [TIDEWAY_BIN, service, ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new TidewayProcess(child, port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  /** Waits until /readyz answers 200. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      // A process ended by a signal (a native crash: SIGSEGV) has no exit code, only a signal.
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`tideway exited with ${this.child.exitCode ?? this.child.signalCode}:\n${this.logs()}`);
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`tideway not ready after ${timeoutMs} ms:\n${this.logs()}`);
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  /** kill -9: no cleanup at all, as in a crash. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }

  exited(): Promise<number | null> {
    return this.exitPromise;
  }

  /** Last lines of combined stdout/stderr, for assertion messages. */
  logs(lines = 60): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}
