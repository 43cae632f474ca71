/** The Tideway services of the demo as child processes (`tideway <service>` from dist/), logs to files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep } from '@tideway/runtime';

export class ChildService {
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
  ) {
    child.once('exit', (code) => {
      this.exitCode = code;
    });
  }

  static async start(repoRoot: string, name: string, env: Record<string, string>, logDir: string): Promise<ChildService> {
    const port = await freePort();
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'tideway.js'), name], {
      env: { ...process.env, ...env, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    return new ChildService(name, child, port, logFile);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`tideway ${this.name} exited with ${this.exitCode}; see ${this.logFile}`);
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/readyz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`tideway ${this.name} not ready after ${timeoutMs} ms; see ${this.logFile}`);
  }

  running(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGTERM (graceful), SIGKILL after the timeout. */
  async stop(timeoutMs = 40_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
