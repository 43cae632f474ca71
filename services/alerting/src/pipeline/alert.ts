/**
 * The alert record written to ALERTS_TOPIC and handed to notifiers. Its `id` is derived from
 * what triggered it (rule + source record, or rule + key + window), so a replay after a crash
 * produces the same id: notifiers send it as the idempotency key.
 */
import { createHash } from 'node:crypto';
import type { OutgoingMessage } from '@tideway/runtime';
import type { Severity, WindowType } from '../rules/rule-file';
import type { SourceRef } from '../windows/keyed-windows';

export interface Alert {
  id: string;
  rule: string;
  severity: Severity;
  title: string;
  /** The rule's keyBy value, or null. */
  key: string | null;
  /** Event time of the triggering event, or the window end (ISO-8601). */
  eventTime: string;
  window?: { type: WindowType; start: string; end: string };
  /** Predicate rules: the event's fields (and looked-up rows); windowed rules: the aggregates. */
  values: Record<string, unknown>;
  /** Up to 20 source records; `sourceCount` says how many contributed in all. */
  sources: SourceRef[];
  sourceCount: number;
}

/** Alerts counted by rule and severity (plain data out, so it crosses from an evaluation thread). */
export class AlertTally {
  private readonly counts = new Map<string, { rule: string; severity: string; n: number }>();

  add(rule: string, severity: string, n = 1): void {
    const id = `${rule}\u0000${severity}`;
    const c = this.counts.get(id);
    if (c) c.n += n;
    else this.counts.set(id, { rule, severity, n });
  }

  entries(): Array<{ rule: string; severity: string; n: number }> {
    return [...this.counts.values()];
  }
}

export const ALERT_ID_HEADER = 'tideway.alert.id';

export function alertId(parts: Array<string | number | null>): string {
  return createHash('sha256')
    .update(parts.map((p) => String(p)).join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function alertMessage(topic: string, alert: Alert): OutgoingMessage {
  return {
    topic,
    key: alert.key ?? alert.rule,
    value: JSON.stringify(alert),
    headers: { [ALERT_ID_HEADER]: alert.id, 'tideway.alert.rule': alert.rule, 'tideway.alert.severity': alert.severity },
  };
}
