/** Helpers of the bridge's tests over its running process (started with test-support/bridge-process.ts). */
export { startBridge, writeRoutes } from '../../../test-support/bridge-process';

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
