/**
 * The open windows of one (rule, key): adding an event, closing what the watermark has passed.
 * Plain JSON state (it is what the changelog topic stores). Pure functions; the caller owns
 * the watermark.
 */
import type { AggregateSpec, WindowSpec } from '../rules/rule-file';
import { accumulate, aggregateValues, emptyAccumulator, mergeAccumulators, type Accumulator, type AggregateValues, type ProjectedValue } from './aggregates';
import { closeTime, isLate, sessionsTouch, timeWindowsFor } from './window-assigner';

export interface SourceRef {
  topic: string;
  partition: number;
  offset: string;
}

/** Source references kept per window (the alert says how many there were in all). */
export const MAX_SOURCES_PER_WINDOW = 20;

export interface OpenWindow {
  start: number;
  end: number;
  acc: Accumulator;
  sources: SourceRef[];
  sourceCount: number;
  /** An update-mode rule already alerted for this window. */
  alerted?: boolean;
}

export interface SlidingEvent {
  t: number;
  v: ProjectedValue[];
  s?: SourceRef;
}

export interface KeyState {
  /** Tumbling, hopping and session windows. */
  windows: OpenWindow[];
  /** Sliding: the events still needed by some window, in time order. */
  events: SlidingEvent[];
  /** Sliding: ends of windows not evaluated yet (one per distinct event time). */
  pending: number[];
  /** Event time before which further alerts of this key are suppressed. */
  cooldownUntil: number | null;
}

export interface WindowResult {
  start: number;
  end: number;
  values: AggregateValues;
  sources: SourceRef[];
  sourceCount: number;
  final: boolean;
  /** The live window, for update-mode bookkeeping (absent for sliding windows). */
  window?: OpenWindow;
}

export interface WindowedEvent {
  t: number;
  v: ProjectedValue[];
  /** Absent when nobody will cite the event (aggregations): keeps state and changelog small. */
  s?: SourceRef;
}

export function newKeyState(): KeyState {
  return { windows: [], events: [], pending: [], cooldownUntil: null };
}

export function isIdle(state: KeyState, watermark: number): boolean {
  return (
    state.windows.length === 0 && state.events.length === 0 && state.pending.length === 0 && (state.cooldownUntil === null || state.cooldownUntil <= watermark)
  );
}

function addSource(w: OpenWindow, s: SourceRef | undefined) {
  if (s && w.sources.length < MAX_SOURCES_PER_WINDOW) w.sources.push(s);
  w.sourceCount++;
}

function resultOf(aggs: AggregateSpec[], w: OpenWindow, final: boolean): WindowResult {
  return { start: w.start, end: w.end, values: aggregateValues(aggs, w.acc), sources: w.sources, sourceCount: w.sourceCount, final, window: w };
}

function slidingResult(spec: WindowSpec, aggs: AggregateSpec[], state: KeyState, end: number, final: boolean): WindowResult {
  const acc: Accumulator = emptyAccumulator(aggs);
  const sources: SourceRef[] = [];
  let n = 0;
  for (const e of state.events) {
    if (e.t <= end - spec.sizeMs || e.t > end) continue;
    accumulate(aggs, acc, e.v);
    if (e.s && sources.length < MAX_SOURCES_PER_WINDOW) sources.push(e.s);
    n++;
  }
  return { start: end - spec.sizeMs, end, values: aggregateValues(aggs, acc), sources, sourceCount: n, final };
}

/**
 * Adds an event. `late` when all its windows have closed at `watermark` (the event is not
 * added). With `emitUpdates`, returns the updated windows' current results.
 */
export function addEvent(
  spec: WindowSpec,
  aggs: AggregateSpec[],
  state: KeyState,
  ev: WindowedEvent,
  watermark: number,
  emitUpdates: boolean,
): { late: boolean; updates: WindowResult[] } {
  if (isLate(spec, ev.t, watermark)) return { late: true, updates: [] };
  const updates: WindowResult[] = [];
  switch (spec.type) {
    case 'tumbling':
    case 'hopping': {
      for (const b of timeWindowsFor(spec, ev.t)) {
        if (closeTime(spec, b) <= watermark) continue;
        let w = state.windows.find((x) => x.start === b.start);
        if (!w) {
          w = { start: b.start, end: b.end, acc: emptyAccumulator(aggs), sources: [], sourceCount: 0 };
          state.windows.push(w);
        }
        accumulate(aggs, w.acc, ev.v);
        addSource(w, ev.s);
        if (emitUpdates) updates.push(resultOf(aggs, w, false));
      }
      break;
    }
    case 'session': {
      let merged: OpenWindow = { start: ev.t, end: ev.t, acc: accumulate(aggs, emptyAccumulator(aggs), ev.v), sources: ev.s ? [ev.s] : [], sourceCount: 1 };
      const keep: OpenWindow[] = [];
      for (const w of state.windows) {
        if (sessionsTouch(spec.gapMs, w, merged)) {
          const sources = [...w.sources, ...merged.sources].slice(0, MAX_SOURCES_PER_WINDOW);
          merged = {
            start: Math.min(w.start, merged.start),
            end: Math.max(w.end, merged.end),
            acc: mergeAccumulators(aggs, w.acc, merged.acc),
            sources,
            sourceCount: w.sourceCount + merged.sourceCount,
            alerted: w.alerted || merged.alerted,
          };
        } else keep.push(w);
      }
      keep.push(merged);
      state.windows = keep.sort((a, b) => a.start - b.start);
      if (emitUpdates) updates.push(resultOf(aggs, merged, false));
      break;
    }
    case 'sliding': {
      let i = state.events.length;
      while (i > 0 && state.events[i - 1].t > ev.t) i--;
      state.events.splice(i, 0, { t: ev.t, v: ev.v, s: ev.s });
      if (emitUpdates) updates.push(slidingResult(spec, aggs, state, ev.t, false));
      else if (!state.pending.includes(ev.t)) state.pending.push(ev.t);
      break;
    }
  }
  return { late: false, updates };
}

/** Removes and returns the windows whose close time the watermark has reached, oldest first. */
export function closeWindows(spec: WindowSpec, aggs: AggregateSpec[], state: KeyState, watermark: number): WindowResult[] {
  const out: WindowResult[] = [];
  if (spec.type === 'sliding') {
    const due = state.pending.filter((e) => closeTime(spec, { start: e - spec.sizeMs, end: e }) <= watermark).sort((a, b) => a - b);
    for (const e of due) out.push(slidingResult(spec, aggs, state, e, true));
    if (due.length > 0) state.pending = state.pending.filter((e) => !due.includes(e));
    // Events are needed by pending windows and by windows of events still to come.
    const horizon = Math.min(watermark - spec.allowedLatenessMs, ...state.pending) - spec.sizeMs;
    if (state.events.length > 0 && state.events[0].t <= horizon) state.events = state.events.filter((e) => e.t > horizon);
    return out;
  }
  const open: OpenWindow[] = [];
  for (const w of state.windows) {
    if (closeTime(spec, w) <= watermark) out.push(resultOf(aggs, w, true));
    else open.push(w);
  }
  if (out.length > 0) state.windows = open;
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Earliest close time of anything open, or undefined (used to skip keys with nothing due). */
export function nextCloseTime(spec: WindowSpec, state: KeyState): number | undefined {
  let min: number | undefined;
  if (spec.type === 'sliding') {
    for (const e of state.pending) {
      const c = closeTime(spec, { start: e - spec.sizeMs, end: e });
      if (min === undefined || c < min) min = c;
    }
    if (min === undefined && state.events.length > 0) min = state.events[0].t + spec.sizeMs + spec.allowedLatenessMs;
    return min;
  }
  for (const w of state.windows) {
    const c = closeTime(spec, w);
    if (min === undefined || c < min) min = c;
  }
  return min;
}
