/**
 * How far V8's old generation grows past what survived the last full collection before the next
 * one (V8's `--heap-growing-percent`, read at every collection, so it can be set once the process
 * runs). V8's own choice is up to 4× for a small heap: with this service's live heap of ~35 MB
 * (rules, windows, tables), ~100 MB of dead batch data then sits in RSS between collections.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flag for `percent`, or undefined for 0 (V8's own growth). Pure. */
export function heapGrowthFlag(percent: number): string | undefined {
  return percent > 0 ? `--heap-growing-percent=${percent}` : undefined;
}

export function limitHeapGrowth(percent: number): void {
  const flag = heapGrowthFlag(percent);
  if (flag) setFlagsFromString(flag);
}
