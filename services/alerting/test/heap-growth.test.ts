import { getHeapStatistics } from 'node:v8';
import { heapGrowthFlag, limitHeapGrowth } from '../src/heap-growth';

describe('heap growth', () => {
  it('is V8 flag --heap-growing-percent, left to V8 at 0', () => {
    expect(heapGrowthFlag(50)).toBe('--heap-growing-percent=50');
    expect(heapGrowthFlag(0)).toBeUndefined();
  });

  it('is accepted by this V8 while the process runs', () => {
    expect(() => limitHeapGrowth(400)).not.toThrow();
    expect(getHeapStatistics().total_heap_size).toBeGreaterThan(0);
  });
});
