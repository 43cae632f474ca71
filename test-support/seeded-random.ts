/**
 * A deterministic pseudo-random source for model-based and property tests (mulberry32): the same
 * seed gives the same sequence, so a failing case is reproduced by its seed alone.
 */
export interface SeededRandom {
  /** A float in [0, 1). */
  (): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as SeededRandom;
  next.int = (n) => Math.floor(next() * n);
  next.chance = (p) => next() < p;
  next.pick = (items) => items[Math.floor(next() * items.length)];
  return next;
}

/** The seeds of a model test: 1..count, or only the one in `process.env[replayVar]` (to replay a failure). */
export function modelSeeds(replayVar: string, count = 3000): number[] {
  const only = process.env[replayVar];
  return only ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
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
