import type { WindowSpec } from '../../src/rules/rule-file';
import { closeTime, isLate, sessionsTouch, timeWindowsFor } from '../../src/windows/window-assigner';

const M = 60_000;
const tumbling: WindowSpec = { type: 'tumbling', sizeMs: 5 * M, advanceMs: 5 * M, gapMs: 0, allowedLatenessMs: M };
const hopping: WindowSpec = { type: 'hopping', sizeMs: 10 * M, advanceMs: 5 * M, gapMs: 0, allowedLatenessMs: 0 };

describe('window assignment', () => {
  it('tumbling: one half-open window aligned to the epoch', () => {
    expect(timeWindowsFor(tumbling, 7 * M)).toEqual([{ start: 5 * M, end: 10 * M }]);
    expect(timeWindowsFor(tumbling, 10 * M)).toEqual([{ start: 10 * M, end: 15 * M }]);
    expect(timeWindowsFor(tumbling, 10 * M - 1)).toEqual([{ start: 5 * M, end: 10 * M }]);
  });

  it('hopping: size / advance overlapping windows, oldest first', () => {
    expect(timeWindowsFor(hopping, 12 * M)).toEqual([
      { start: 5 * M, end: 15 * M },
      { start: 10 * M, end: 20 * M },
    ]);
    const h3: WindowSpec = { ...hopping, sizeMs: 15 * M };
    expect(timeWindowsFor(h3, 15 * M).map((w) => w.start / M)).toEqual([5, 10, 15]);
  });

  it('close times and lateness', () => {
    expect(closeTime(tumbling, { start: 0, end: 5 * M })).toBe(6 * M);
    expect(isLate(tumbling, 4 * M, 6 * M - 1)).toBe(false);
    expect(isLate(tumbling, 4 * M, 6 * M)).toBe(true);
    expect(isLate(hopping, 4 * M, 6 * M)).toBe(false); // still in [0, 10)
    const session: WindowSpec = { type: 'session', sizeMs: 0, advanceMs: 0, gapMs: 2 * M, allowedLatenessMs: 0 };
    expect(isLate(session, 4 * M, 6 * M)).toBe(true);
    expect(isLate(session, 4 * M + 1, 6 * M)).toBe(false);
    const sliding: WindowSpec = { type: 'sliding', sizeMs: 3 * M, advanceMs: 3 * M, gapMs: 0, allowedLatenessMs: 0 };
    expect(isLate(sliding, 6 * M, 6 * M)).toBe(false); // equal time is on time
    expect(isLate(sliding, 6 * M - 1, 6 * M)).toBe(true);
  });

  it('sessions touch when less than the gap apart', () => {
    expect(sessionsTouch(2 * M, { start: 0, end: M }, { start: 3 * M - 1, end: 3 * M - 1 })).toBe(true);
    expect(sessionsTouch(2 * M, { start: 0, end: M }, { start: 3 * M, end: 3 * M })).toBe(false);
  });
});
