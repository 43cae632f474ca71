/**
 * Second stage, per partition of the repartition topic: the window state of every (rule, key)
 * routed to that partition, its event-time watermark, and cooldowns. Pure: applying events and
 * advancing the watermark returns the records to write (alerts, aggregation results, late
 * events) and the changelog entries of the keys that changed, all for one transaction.
 *
 * The watermark is the largest event time seen in the partition; an idle partition is advanced
 * by the caller (`advanceIdle`), so windows close even when no more events arrive.
 */
import type { OutgoingMessage } from '@tideway/runtime';
import { isTrue, toPlain } from '../rules/cel-expr';
import { fingerprintOf, type StatefulRule, type WindowedRule } from '../rules/rule-file';
import { addEvent, closeWindows, isIdle, newKeyState, nextCloseTime, type KeyState, type WindowResult } from '../windows/keyed-windows';
import { alertId, isoTime, type Alert } from './alert';
import { stateKeyOf, type ForwardedEvent, type RuleIndex } from './input-evaluator';

export const META_KEY = '\u0000meta';

interface Entry {
  rule: string;
  key: string;
  /** The rule definition the state was built under (see WindowedBase.fingerprint). */
  fp: string;
  st: KeyState;
}

export interface StageOutput {
  alerts: Alert[];
  /** Aggregation results and late events. */
  records: OutgoingMessage[];
  late: Array<{ rule: string }>;
  suppressed: Array<{ rule: string }>;
  /** Events whose rule no longer exists or changed its window (after a reload). */
  orphaned: number;
}

export function emptyOutput(): StageOutput {
  return { alerts: [], records: [], late: [], suppressed: [], orphaned: 0 };
}

/** Cooldown gates of predicate rules keep state under this fingerprint. */
const GATE_FP = 'gate';

export class PartitionState {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  watermark = -Infinity;
  private metaDirty = false;

  constructor(private index: RuleIndex) {}

  setRules(index: RuleIndex): void {
    this.index = index;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Open windows across keys (a gauge). */
  openWindows(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.st.windows.length + e.st.pending.length;
    return n;
  }

  /** Loads one changelog record (a null value is a tombstone). */
  restore(key: string, value: string | null): void {
    if (key === META_KEY) {
      if (value !== null) this.watermark = (JSON.parse(value) as { wm: number | null }).wm ?? -Infinity;
      return;
    }
    if (value === null) this.entries.delete(key);
    else {
      const entry = JSON.parse(value) as Entry;
      // Changelogs written before fingerprints were hashed carry the definition itself.
      if (entry.fp.startsWith('[')) entry.fp = fingerprintOf(entry.fp);
      this.entries.set(key, entry);
    }
  }

  apply(ev: ForwardedEvent, out: StageOutput): void {
    const rule = this.index.all.get(ev.r);
    const sk = stateKeyOf(ev.r, ev.k);
    if (ev.t > this.watermark) {
      this.watermark = ev.t;
      this.metaDirty = true;
    }
    if (ev.a) {
      if (!rule || rule.kind !== 'predicate') {
        out.orphaned++;
        return;
      }
      const entry = this.entryFor(sk, ev, GATE_FP);
      if (entry.st.cooldownUntil !== null && ev.t < entry.st.cooldownUntil) out.suppressed.push({ rule: rule.id });
      else {
        entry.st.cooldownUntil = ev.t + rule.cooldownMs;
        out.alerts.push(ev.a);
      }
      this.dirty.add(sk);
      return;
    }
    if (!rule || rule.kind === 'predicate' || !ev.v) {
      out.orphaned++;
      return;
    }
    const entry = this.entryFor(sk, ev, rule.fingerprint);
    const { late, updates } = addEvent(
      rule.window,
      rule.aggregates,
      entry.st,
      { t: ev.t, v: ev.v, s: rule.kind === 'windowed' ? ev.s : undefined },
      this.watermark,
      rule.emit === 'update',
    );
    if (late) {
      out.late.push({ rule: rule.id });
      if (rule.lateTopic)
        out.records.push({
          topic: rule.lateTopic,
          key: ev.k,
          value: JSON.stringify({ rule: rule.id, key: ev.k, eventTime: isoTime(ev.t), source: ev.s, values: ev.v }),
          headers: { 'tideway.late.rule': rule.id },
        });
      if (isIdle(entry.st, this.watermark)) this.entries.delete(sk);
      return;
    }
    this.dirty.add(sk);
    for (const u of updates) this.emit(rule, entry, u, out, ev.t);
  }

  /** Closes every window the watermark has passed. Call after a batch of `apply`. */
  advance(out: StageOutput, watermark = this.watermark): void {
    if (watermark > this.watermark) {
      this.watermark = watermark;
      this.metaDirty = true;
    }
    for (const [sk, entry] of this.entries) {
      const rule = this.index.stateful.get(entry.rule);
      if (entry.fp === GATE_FP) {
        if (isIdle(entry.st, this.watermark)) this.drop(sk);
        continue;
      }
      if (!rule || rule.fingerprint !== entry.fp) {
        // The rule was removed or its window redefined by a reload: its old state means nothing now.
        this.drop(sk);
        continue;
      }
      const next = nextCloseTime(rule.window, entry.st);
      if (next !== undefined && next <= this.watermark) {
        for (const r of closeWindows(rule.window, rule.aggregates, entry.st, this.watermark))
          if (rule.emit === 'final' || rule.kind === 'windowed') this.emit(rule, entry, r, out, r.end);
        this.dirty.add(sk);
      }
      if (isIdle(entry.st, this.watermark)) this.drop(sk);
    }
  }

  /** (rule, key) entries changed since the last changelog was taken. */
  get changedKeys(): number {
    return this.dirty.size;
  }

  /** Changelog records for what changed since the last call (tombstones for dropped keys). */
  takeChangelog(topic: string, partition: number): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const sk of this.dirty) {
      const e = this.entries.get(sk);
      out.push({ topic, partition, key: sk, value: e ? JSON.stringify(e) : null });
    }
    if (this.metaDirty) out.push({ topic, partition, key: META_KEY, value: JSON.stringify({ wm: Number.isFinite(this.watermark) ? this.watermark : null }) });
    this.dirty.clear();
    this.metaDirty = false;
    return out;
  }

  private drop(sk: string) {
    this.entries.delete(sk);
    this.dirty.add(sk);
  }

  private entryFor(sk: string, ev: ForwardedEvent, fp: string): Entry {
    let e = this.entries.get(sk);
    if (!e || e.fp !== fp) {
      e = { rule: ev.r, key: ev.k, fp, st: newKeyState() };
      this.entries.set(sk, e);
    }
    return e;
  }

  private emit(rule: StatefulRule, entry: Entry, r: WindowResult, out: StageOutput, triggerTime: number) {
    const vars: Record<string, unknown> = { ...r.values, key: entry.key, window_start: r.start, window_end: r.end };
    if (rule.kind === 'aggregation') {
      if (rule.having && !isTrue(rule.having.evaluate(vars))) return;
      const value = {
        aggregation: rule.id,
        key: entry.key,
        window: { type: rule.window.type, start: isoTime(r.start), end: isoTime(r.end) },
        values: r.values,
        final: r.final,
        sourceCount: r.sourceCount,
      };
      out.records.push({
        topic: rule.sink,
        key: entry.key,
        value: JSON.stringify(value),
        headers: { 'tideway.aggregation': rule.id, 'tideway.window.start': String(r.start), 'tideway.window.end': String(r.end) },
      });
      return;
    }
    if (r.window?.alerted) return;
    if (!isTrue(toPlain(rule.when.evaluate(vars)))) return;
    if (r.window) r.window.alerted = true;
    if (entry.st.cooldownUntil !== null && triggerTime < entry.st.cooldownUntil) {
      out.suppressed.push({ rule: rule.id });
      return;
    }
    if (rule.cooldownMs > 0) entry.st.cooldownUntil = triggerTime + rule.cooldownMs;
    out.alerts.push(windowAlert(rule, entry.key, r));
  }
}

function windowAlert(rule: WindowedRule, key: string, r: WindowResult): Alert {
  return {
    id: alertId([rule.id, key, r.start, r.end]),
    rule: rule.id,
    severity: rule.severity,
    title: rule.title,
    key: rule.keyBy ? key : null,
    eventTime: isoTime(r.end),
    window: { type: rule.window.type, start: isoTime(r.start), end: isoTime(r.end) },
    values: r.values,
    sources: r.sources,
    sourceCount: r.sourceCount,
  };
}
