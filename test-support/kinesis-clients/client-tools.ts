/** Running the non-JavaScript clients (boto3, the aws CLI, the AWS SDK for Java v2) installed by scripts/tools/ on first use. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (never throws on a non-zero exit: the caller checks `code`). */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, cwd: REPO_ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs one of scripts/tools/ensure-*.sh and answers what it prints (a path); throws with its output when it fails. */
export async function ensureTool(script: string): Promise<string> {
  const r = await run('bash', [join(REPO_ROOT, 'scripts', 'tools', script)]);
  if (r.code !== 0) throw new Error(`${script} failed (${r.code}):\n${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/** The last line of a program's output as JSON; fails with the whole output when it is not. */
export function lastJsonLine(r: Run): Record<string, unknown> {
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`expected a JSON line, got exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  }
}
