import type { AggregateSpec, WindowSpec } from '../../src/rules/rule-file';
import { addEvent, closeWindows, isIdle, newKeyState, type KeyState } from '../../src/windows/keyed-windows';

const M = 60_000;
const aggs: AggregateSpec[] = [
  { name: 'n', fn: 'count' },
  { name: 's', fn: 'sum', path: 'v' },
];
const src = (o: number) => ({ topic: 't', partition: 0, offset: String(o) });

/** Feeds events in order with the watermark = max time seen, closing after each; returns closed windows. */
function run(spec: WindowSpec, events: Array<[minutes: number, v: number]>, flushAt: number) {
  const st: KeyState = newKeyState();
  let wm = -Infinity;
  const closed: string[] = [];
  const late: number[] = [];
  events.forEach(([t, v], i) => {
    wm = Math.max(wm, t * M);
    if (addEvent(spec, aggs, st, { t: t * M, v: [null, v], s: src(i) }, wm, false).late) late.push(t);
    for (const r of closeWindows(spec, aggs, st, wm)) closed.push(`${r.start / M}-${r.end / M}:${r.values.n}/${r.values.s}`);
  });
  for (const r of closeWindows(spec, aggs, st, flushAt * M)) closed.push(`${r.start / M}-${r.end / M}:${r.values.n}/${r.values.s}`);
  return { closed, late, st };
}

describe('keyed windows', () => {
  it('tumbling with lateness: out-of-order inside lateness counts, after it is late', () => {
    const spec: WindowSpec = { type: 'tumbling', sizeMs: 5 * M, advanceMs: 5 * M, gapMs: 0, allowedLatenessMs: M };
    const { closed, late, st } = run(
      spec,
      [
        [1, 1],
        [5.5, 2],
        [4, 3],
        [6, 4],
        [4.5, 5],
        [11, 6],
      ],
      100,
    );
    expect(closed).toEqual(['0-5:2/4', '5-10:2/6', '10-15:1/6']);
    expect(late).toEqual([4.5]);
    expect(isIdle(st, 100 * M)).toBe(true);
  });

  it('session windows merge when an event bridges two sessions', () => {
    const spec: WindowSpec = { type: 'session', sizeMs: 0, advanceMs: 0, gapMs: 2 * M, allowedLatenessMs: 5 * M };
    const { closed } = run(
      spec,
      [
        [0, 1],
        [3, 2],
        [1.5, 4],
        [20, 8],
      ],
      100,
    );
    expect(closed).toEqual(['0-3:3/7', '20-20:1/8']);
  });

  it('sliding windows: one per event time, (t - size, t], after the watermark passes t', () => {
    const spec: WindowSpec = { type: 'sliding', sizeMs: 3 * M, advanceMs: 3 * M, gapMs: 0, allowedLatenessMs: 0 };
    const { closed, st } = run(
      spec,
      [
        [0, 1],
        [1, 2],
        [1, 3],
        [3, 4],
        [7, 5],
      ],
      100,
    );
    expect(closed).toEqual(['-3-0:1/1', '-2-1:3/6', '0-3:3/9', '4-7:1/5']);
    expect(st.events).toEqual([]);
  });

  it('update mode reports every change of the windows an event lands in', () => {
    const spec: WindowSpec = { type: 'hopping', sizeMs: 10 * M, advanceMs: 5 * M, gapMs: 0, allowedLatenessMs: 0 };
    const st = newKeyState();
    const r1 = addEvent(spec, aggs, st, { t: 6 * M, v: [null, 2], s: src(0) }, 6 * M, true);
    expect(r1.updates.map((u) => `${u.start / M}-${u.end / M}:${u.values.n}/${u.values.s}:${u.final}`)).toEqual(['0-10:1/2:false', '5-15:1/2:false']);
    const r2 = addEvent(spec, aggs, st, { t: 7 * M, v: [null, 3], s: src(1) }, 7 * M, true);
    expect(r2.updates.map((u) => `${u.start / M}:${u.values.s}`)).toEqual(['0:5', '5:5']);
  });

  it('keeps at most 20 source references per window but counts them all', () => {
    const spec: WindowSpec = { type: 'tumbling', sizeMs: 5 * M, advanceMs: 5 * M, gapMs: 0, allowedLatenessMs: 0 };
    const st = newKeyState();
    for (let i = 0; i < 30; i++) addEvent(spec, aggs, st, { t: M, v: [null, 1], s: src(i) }, M, false);
    const [r] = closeWindows(spec, aggs, st, 5 * M);
    expect(r.sources).toHaveLength(20);
    expect(r.sourceCount).toBe(30);
  });
});
