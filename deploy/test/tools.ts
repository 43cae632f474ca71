/**
 * Helpers for the deploy checks: the external tools (installed and cached by
 * scripts/tools/ensure-*.sh on first use) and running them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'helm', 'tideway');
export const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy', 'prometheus');
export const GRAFANA_DIR = join(REPO_ROOT, 'deploy', 'grafana');
/** Kubernetes version the chart is rendered and validated for (kubernetes-validate ships its schemas). */
export const KUBE_VERSION = '1.33.0';
/** First installs build helm from source: allow for it. */
export const TOOL_INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs and throws with the tool's output unless it exits 0. */
export function runOk(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const toolCache = new Map<string, string>();
/** Path printed by scripts/tools/ensure-<name>.sh (installs into the cache on first use). */
export function ensureTool(name: 'helm' | 'prometheus' | 'kubernetes-validate' | 'compose-validate' | 'dockerfile-check'): string {
  const cached = toolCache.get(name);
  if (cached) return cached;
  const out = runOk('bash', [join(REPO_ROOT, 'scripts', 'tools', `ensure-${name}.sh`)], { timeoutMs: TOOL_INSTALL_TIMEOUT_MS }).trim();
  const path = out.split('\n').pop() ?? '';
  toolCache.set(name, path);
  return path;
}

export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-deploy-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}
