/**
 * Seeded randomness for model-based and property tests: the generator is the runtime's (mulberry32),
 * plus the seeds of a model test, its failure collection and a generated offset log.
 */
import { seededRandom, type SeededRandom } from '../services/runtime/src/seeded-random';

export { seededRandom, type SeededRandom };

/** The seeds of a model test: 1..count, or only the one in `process.env[replayVar]` (to replay a failure). */
export function modelSeeds(replayVar: string, count = 3000): number[] {
  const only = process.env[replayVar];
  return only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
}

/** The seed of a randomized run: `process.env[replayVar]` when set (to replay a failure), else a fresh one. */
export function runSeed(replayVar: string): number {
  const env = process.env[replayVar];
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

/** Runs `runCase` per seed; returns the first `max` failures (each names its seed), or [] when all hold. */
export function seededFailures(seeds: readonly number[], runCase: (seed: number) => string | undefined, max = 5): string[] {
  const failures: string[] = [];
  for (const seed of seeds) {
    const failure = runCase(seed);
    if (failure) failures.push(failure);
    if (failures.length >= max) break;
  }
  return failures;
}

/**
 * A partition's offsets, `length` records from a small start: mostly consecutive, with gaps of 2..4
 * at rate `gapChance` (transaction markers, compacted records).
 */
export function offsetLog(r: SeededRandom, length: number, gapChance: number): bigint[] {
  const log: bigint[] = [];
  let o = BigInt(r.int(3));
  for (let i = 0; i < length; i++) {
    log.push(o);
    o += r.chance(gapChance) ? BigInt(2 + r.int(3)) : 1n;
  }
  return log;
}
