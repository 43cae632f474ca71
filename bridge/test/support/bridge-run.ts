/** Starts `tideway bridge` (built dist/) as a child process with a routes file written for the test. */
import { writeTempFile } from '../../../test-support/temp-file';
import { TidewayProcess } from '../../../test-support/tideway-process';

export function writeRoutes(yaml: string): string {
  return writeTempFile('routes.yaml', yaml);
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
