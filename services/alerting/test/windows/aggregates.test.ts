import type { AggregateSpec } from '../../src/rules/rule-file';
import { accumulate, aggregateValues, emptyAccumulator, mergeAccumulators } from '../../src/windows/aggregates';

const specs: AggregateSpec[] = [
  { name: 'n', fn: 'count' },
  { name: 's', fn: 'sum', path: 'v' },
  { name: 'a', fn: 'avg', path: 'v' },
  { name: 'lo', fn: 'min', path: 'v' },
  { name: 'hi', fn: 'max', path: 'v' },
  { name: 'u', fn: 'count_distinct', path: 'user' },
];

describe('aggregates', () => {
  it('count, sum, avg, min, max, count_distinct; absent values count only for count', () => {
    const acc = emptyAccumulator(specs);
    expect(aggregateValues(specs, acc)).toEqual({ n: 0, s: 0, a: null, lo: null, hi: null, u: 0 });
    accumulate(specs, acc, [null, 5, 5, 5, 5, 'x']);
    accumulate(specs, acc, [null, -1, -1, -1, -1, 'y']);
    accumulate(specs, acc, [null, null, null, null, null, 'x']);
    expect(aggregateValues(specs, acc)).toEqual({ n: 3, s: 4, a: 2, lo: -1, hi: 5, u: 2 });
  });

  it('merges like adding every event to one accumulator', () => {
    const a = accumulate(specs, emptyAccumulator(specs), [null, 1, 1, 1, 1, 'x']);
    const b = accumulate(specs, accumulate(specs, emptyAccumulator(specs), [null, 3, 3, 3, 3, 'y']), [null, 8, 8, 8, 8, 'x']);
    expect(aggregateValues(specs, mergeAccumulators(specs, a, b))).toEqual({ n: 3, s: 12, a: 4, lo: 1, hi: 8, u: 2 });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a); // plain JSON for the changelog
  });
});
