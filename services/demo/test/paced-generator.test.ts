import { changesDue, runPacedGenerator } from '../src/paced-generator';
import { ChangeGenerator, type Change } from '../src/generator';

test('changesDue: what is due since the start, capped by the batch size and the limit', () => {
  expect(changesDue(0, 10, 0, 0, 100)).toBe(0);
  expect(changesDue(1000, 10, 0, 0, 100)).toBe(10);
  expect(changesDue(1000, 10, 4, 0, 100)).toBe(6);
  expect(changesDue(60_000, 10, 0, 0, 100)).toBe(100); // behind: catch up in batches
  expect(changesDue(60_000, 10, 595, 600, 100)).toBe(5); // never past DEMO_MAX_CHANGES
  expect(changesDue(1000, 10, 12, 0, 100)).toBe(0);
});

test('runPacedGenerator writes exactly maxChanges, in order, retrying a failed batch instead of skipping it', async () => {
  let clock = 0;
  const written: Change[] = [];
  let failures = 2;
  const sink = {
    async write(batch: readonly Change[]) {
      clock += 250;
      if (failures-- > 0) throw new Error('connection reset');
      written.push(...batch);
    },
  };
  const retries: number[] = [];
  const reference = new ChangeGenerator({ seed: 3, fraudRatio: 0.1 }).take(50, new Date(0));
  const n = await runPacedGenerator(
    new ChangeGenerator({ seed: 3, fraudRatio: 0.1 }),
    sink,
    { rate: 20, batchMaxChanges: 7, maxChanges: 50, durationMs: 0, signal: new AbortController().signal, now: () => (clock += 10) },
    () => undefined,
    (_err, attempt) => retries.push(attempt),
  );
  expect(n).toBe(50);
  expect(retries.length).toBe(2);
  // Same changes in the same order (timestamps differ: they come from the clock at each batch).
  const identity = (c: Change) => `${c.table}:${c.op}:${c.op === 'c' ? Object.values(c.row)[0] : c.key}`;
  expect(written.map(identity)).toEqual(reference.map(identity));
});
