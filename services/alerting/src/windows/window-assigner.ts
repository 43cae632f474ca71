/**
 * Window maths in event time (epoch millis). Pure.
 *
 * Tumbling and hopping windows are half-open [start, end), aligned to the epoch. A sliding
 * window is defined by each event: (t - size, t], evaluated when that event is final. A session
 * window spans from its first to its last event and grows while events arrive less than `gap`
 * apart. A window closes once the partition's watermark reaches its close time; an event whose
 * windows are all closed is late.
 */
import type { WindowSpec } from '../rules/rule-file';

export interface WindowBounds {
  start: number;
  end: number;
}

/** The tumbling/hopping windows containing `t`, oldest first. */
export function timeWindowsFor(spec: WindowSpec, t: number): WindowBounds[] {
  const out: WindowBounds[] = [];
  const lastStart = Math.floor(t / spec.advanceMs) * spec.advanceMs;
  for (let start = lastStart; start > t - spec.sizeMs && start >= 0; start -= spec.advanceMs) out.unshift({ start, end: start + spec.sizeMs });
  return out;
}

/** Watermark at which a window is final: tumbling/hopping end + lateness; session last event + gap + lateness; sliding window ending at t: t + lateness + 1 (its end is inclusive). */
export function closeTime(spec: WindowSpec, w: WindowBounds): number {
  switch (spec.type) {
    case 'tumbling':
    case 'hopping':
      return w.end + spec.allowedLatenessMs;
    case 'session':
      return w.end + spec.gapMs + spec.allowedLatenessMs;
    case 'sliding':
      return w.end + spec.allowedLatenessMs + 1;
  }
}

/** True when every window an event at `t` belongs to has closed at `watermark`. */
export function isLate(spec: WindowSpec, t: number, watermark: number): boolean {
  switch (spec.type) {
    case 'tumbling':
    case 'hopping': {
      const lastStart = Math.floor(t / spec.advanceMs) * spec.advanceMs;
      return closeTime(spec, { start: lastStart, end: lastStart + spec.sizeMs }) <= watermark;
    }
    case 'session':
    case 'sliding':
      return closeTime(spec, { start: t, end: t }) <= watermark;
  }
}

/** Two sessions (or a session and a new event) merge when they are less than `gap` apart. */
export function sessionsTouch(gapMs: number, a: WindowBounds, b: WindowBounds): boolean {
  return a.start < b.end + gapMs && b.start < a.end + gapMs;
}
