/** Reading a metric from a service's Prometheus text (`/metrics`, or a registry's `metrics()`). */
import type { TidewayProcess } from './tideway-process';
import { waitFor } from './wait';

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return labels;
}

/** Sum of the samples of metric `name` whose labels include all of `labels` (0 when there is none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = parseLabels(m[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Waits until the process's metric reaches `min`; fails at once when the process exits, with its last log lines. */
export async function waitForMetric(proc: TidewayProcess, name: string, labels: Record<string, string>, min: number, timeoutMs = 120_000): Promise<void> {
  let last = 0;
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null)
        throw new ProcessExited(`exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.logs()}`);
      last = metricValue(await proc.metrics(), name, labels);
      return last >= min;
    },
    {
      timeoutMs,
      intervalMs: 50,
      what: `${name} ${JSON.stringify(labels)} >= ${min}`,
      describe: () => `at ${last}:\n${proc.logs()}`,
      stopOn: (err) => err instanceof ProcessExited,
    },
  );
}

class ProcessExited extends Error {}
