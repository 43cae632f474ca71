/**
 * A private single-node KRaft Kafka for tests that stop and restart a broker (the shared one on
 * 9092 must never be stopped): scripts/stack/kafka-private.sh (same jars, config template and
 * JVM flags as the shared stack) on two free loopback ports, with its own temporary data dir.
 *
 *   const broker = await PrivateKafka.start();   // formats a temp dir, waits until it serves
 *   broker.brokers                               // '127.0.0.1:<port>' for KAFKA_BROKERS
 *   await broker.kill('SIGKILL');                // crash (or SIGTERM: controlled shutdown)
 *   await broker.restart();                      // same ports, same data dir
 *   await broker.destroy();                      // kill it and remove the data dir (afterAll)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './tideway-process';

const SCRIPT = join(__dirname, '..', 'scripts', 'stack', 'kafka-private.sh');

export class PrivateKafka {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
  ) {}

  /** Starts a fresh broker and waits until it answers (timeout covers JVM start and formatting). */
  static async start(timeoutMs = 120_000): Promise<PrivateKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'tideway-kafka-'));
    const port = await freePort();
    let controllerPort = await freePort();
    while (controllerPort === port) controllerPort = await freePort();
    const k = new PrivateKafka(dir, port, controllerPort);
    try {
      await k.restart(timeoutMs);
    } catch (err) {
      await k.destroy();
      throw err;
    }
    return k;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.dir, 'broker.log');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts the broker on the same ports and data dir; resolves once it serves metadata. */
  async restart(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error('private Kafka is already running');
    const log = openSync(this.logFile, 'a');
    const child = spawn('bash', [SCRIPT, this.dir, String(this.port), String(this.controllerPort)], { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`private Kafka exited during start-up:\n${this.logTail()}`);
      const admin = new Kafka({ clientId: 'private-kafka-probe', brokers: [this.brokers], connectionTimeout: 1000, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length > 0 && cluster.controller !== null) return;
      } catch (err) {
        lastErr = err;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`private Kafka not ready after ${timeoutMs} ms (${String(lastErr)}):\n${this.logTail()}`);
  }

  /** Sends `signal` to the broker (the java process itself) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 60_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the broker and removes its data dir. */
  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
