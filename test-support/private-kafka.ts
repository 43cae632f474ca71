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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './free-port';
import { ServerProcess } from './private-server';

const SCRIPT = join(__dirname, '..', 'scripts', 'stack', 'kafka-private.sh');

export class PrivateKafka {
  private readonly server: ServerProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
  ) {
    this.server = new ServerProcess('private Kafka', join(dir, 'broker.log'));
  }

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
    return this.server.logFile;
  }

  get running(): boolean {
    return this.server.running;
  }

  /** (Re)starts the broker on the same ports and data dir; resolves once it serves metadata. */
  async restart(timeoutMs = 120_000): Promise<void> {
    await this.server.start('bash', [SCRIPT, this.dir, String(this.port), String(this.controllerPort)], {}, () => this.servesMetadata(), timeoutMs, 500);
  }

  private async servesMetadata(): Promise<boolean> {
    const admin = new Kafka({
      clientId: 'private-kafka-probe',
      brokers: [this.brokers],
      connectionTimeout: 1000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Sends `signal` to the broker (the java process itself) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 60_000): Promise<void> {
    await this.server.stop(signal, timeoutMs);
  }

  /** Kills the broker and removes its data dir. */
  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return this.server.logTail(lines);
  }
}
