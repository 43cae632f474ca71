/**
 * A private single-node OpenSearch for tests that stop and restart the node (the stack's on 9200
 * stays up): scripts/stack/opensearch-node.sh (same node home, config and JVM flags as the stack's)
 * on two free loopback ports, with its own temporary directory for config, data and logs.
 *
 *   const node = await PrivateOpenSearch.start();   // waits for cluster health yellow
 *   node.url                                         // 'http://127.0.0.1:<port>'
 *   await node.kill('SIGTERM');                      // or SIGKILL
 *   await node.restart();                            // same ports, same data
 *   await node.destroy();                            // kill it and remove its directory (afterAll)
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ServerProcess } from './private-server';

const SCRIPT = join(__dirname, '..', 'scripts', 'stack', 'opensearch-node.sh');

export class PrivateOpenSearch {
  private readonly server: ServerProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly transportPort: number,
  ) {
    this.server = new ServerProcess('private OpenSearch', join(dir, 'node.log'));
  }

  static async start(timeoutMs = 120_000): Promise<PrivateOpenSearch> {
    const dir = mkdtempSync(join(tmpdir(), 'tideway-opensearch-'));
    // Run as root, the script hands the node to an unprivileged user, which must reach the directory.
    chmodSync(dir, 0o755);
    const port = await freePort();
    let transportPort = await freePort();
    while (transportPort === port) transportPort = await freePort();
    const node = new PrivateOpenSearch(dir, port, transportPort);
    try {
      await node.restart(timeoutMs);
    } catch (err) {
      await node.destroy();
      throw err;
    }
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server.running;
  }

  async restart(timeoutMs = 120_000): Promise<void> {
    await this.server.start('bash', [SCRIPT, join(this.dir, 'node'), String(this.port), String(this.transportPort)], {}, () => this.healthy(), timeoutMs, 500);
  }

  private async healthy(): Promise<boolean> {
    const res = await fetch(`${this.url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status?: string };
    return res.status === 200 && (body.status === 'yellow' || body.status === 'green');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 60_000): Promise<void> {
    await this.server.stop(signal, timeoutMs);
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return this.server.logTail(lines);
  }
}
