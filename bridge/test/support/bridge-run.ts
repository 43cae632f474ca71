/** Starts `tideway bridge` (built dist/) as a child process with a routes file written for the test. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TidewayProcess } from '../../../test-support/tideway-process';

export function writeRoutes(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-routes-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function startBridge(routesFile: string, env: NodeJS.ProcessEnv = {}): Promise<TidewayProcess> {
  return TidewayProcess.start('bridge', {
    BRIDGE_ROUTES: routesFile,
    BRIDGE_COMMIT_INTERVAL_MS: '200',
    BRIDGE_RETRY_INITIAL_MS: '50',
    BRIDGE_RETRY_MAX_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...env,
  });
}

/** Sum of a metric's samples whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Per key, the first occurrence of each record must come in sequence order (replays may repeat). */
export function firstOccurrencesInOrder(seqsByKey: Map<string, number[]>): string[] {
  const problems: string[] = [];
  for (const [key, seqs] of seqsByKey) {
    const seen = new Set<number>();
    let last = -1;
    for (const s of seqs) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (s < last) problems.push(`${key}: ${s} first appeared after ${last}`);
      last = Math.max(last, s);
    }
  }
  return problems;
}

/** Waits until the bridge's metric reaches `min`; on timeout the error carries the bridge's last log lines. */
export async function waitForMetric(bridge: TidewayProcess, name: string, labels: Record<string, string>, min: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (bridge.child.exitCode !== null || bridge.child.signalCode !== null) throw new Error(`bridge exited (${bridge.child.exitCode ?? bridge.child.signalCode}):\n${bridge.logs()}`);
    try {
      if (metricValue(await bridge.metrics(), name, labels) >= min) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not reach ${min}:\n${bridge.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
