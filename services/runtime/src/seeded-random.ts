/**
 * A deterministic pseudo-random source (mulberry32): the same seed gives the same sequence, so
 * generated data and a failing model-test case are reproduced by their seed alone.
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
