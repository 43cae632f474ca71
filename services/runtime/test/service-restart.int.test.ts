/**
 * The runtime's in-process restart (`runService`): a service whose start-up or run fails on a
 * transient error starts again in the same process, registers its metrics again and becomes
 * ready, however many times it restarts. The service is a fixture (test/fixtures/restarting-service.js)
 * that fails on demand; the runtime, its HTTP endpoint and its Kafka client are the real ones.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../../test-support/free-port';
import { waitFor } from '../../../test-support/wait';

const FIXTURE = join(__dirname, 'fixtures', 'restarting-service.js');

describe('runService restarts a service after a transient failure', () => {
  it('starts again after a failed start and after a failure while running, with its metrics registered again', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const scrape = async () => {
      try {
        const ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
        return { ready, metrics: await (await fetch(`http://127.0.0.1:${port}/metrics`)).text() };
      } catch {
        return { ready: false, metrics: '' };
      }
    };
    try {
      // Third start: after the failed start and the failure while running.
      await waitFor(
        async () => {
          const s = await scrape();
          return s.ready && /^tideway_service_restarts_total\{[^}]*phase="running"[^}]*\} 1$/m.test(s.metrics) && output.includes('"starts":3');
        },
        { timeoutMs: 30_000, what: 'the third start, ready', describe: () => output.slice(-3000) },
      );
      const { metrics } = await scrape();
      expect(metrics).toMatch(/^tideway_service_restarts_total\{[^}]*phase="start"[^}]*\} 1$/m);
      // Registered again by the third start, counting from zero again.
      expect(metrics).toMatch(/^tideway_fixture_starts_total\{[^}]*\} 1$/m);
      expect(output).not.toContain('already been registered');
      expect(output).toContain('"msg":"recovered"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
