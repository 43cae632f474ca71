/**
 * What each notifier type POSTs for an alert. Pure. Every request carries the alert id as
 * `Idempotency-Key`: delivery is at-least-once, so a receiver that keeps the ids it has seen
 * can drop the repeats.
 */
import type { Alert } from '../pipeline/alert';
import type { NotifierSpec, NotifierType } from '../rules/rule-file';

export interface NotifierRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function summary(alert: Alert): string {
  const values = Object.entries(alert.values)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .slice(0, 8)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const window = alert.window ? ` window ${alert.window.start} – ${alert.window.end}` : '';
  return `[${alert.severity.toUpperCase()}] ${alert.title}${alert.key ? ` (key ${alert.key})` : ''}${window}: ${values}`;
}

export function notifierBody(type: NotifierType, alert: Alert): unknown {
  switch (type) {
    case 'webhook':
      return alert;
    case 'slack':
      // Slack incoming webhooks (and Mattermost, Rocket.Chat) accept `text`.
      return { text: summary(alert) };
    case 'alertmanager':
      // Alertmanager's POST /api/v2/alerts takes a list; equal labels are one alert, so a resend updates it.
      return [
        {
          labels: { alertname: alert.rule, severity: alert.severity, key: alert.key ?? '', alert_id: alert.id, source: 'tideway-alerting' },
          annotations: { summary: summary(alert), values: JSON.stringify(alert.values).slice(0, 4000) },
          startsAt: alert.eventTime,
        },
      ];
  }
}

export function notifierRequest(spec: NotifierSpec, alert: Alert): NotifierRequest {
  return {
    url: spec.url,
    headers: { 'content-type': 'application/json', 'idempotency-key': alert.id, 'x-tideway-alert-id': alert.id, 'x-tideway-rule': alert.rule },
    body: JSON.stringify(notifierBody(spec.type, alert)),
  };
}

/** Whether a notifier wants this alert (empty filters mean all). */
export function notifierWants(spec: NotifierSpec, alert: Alert): boolean {
  return (spec.severities.length === 0 || spec.severities.includes(alert.severity)) && (spec.rules.length === 0 || spec.rules.includes(alert.rule));
}

/** 408, 429 and 5xx may succeed later; other 4xx will not. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
