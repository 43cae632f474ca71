import type { Alert } from '../../src/pipeline/alert';
import { isRetriableStatus, notifierRequest, notifierWants } from '../../src/notify/payloads';
import type { NotifierSpec } from '../../src/rules/rule-file';

const alert: Alert = {
  id: 'abc',
  rule: 'claim-burst',
  severity: 'high',
  title: 'Claim burst',
  key: '42',
  eventTime: '2026-11-22T00:10:00.000Z',
  window: { type: 'tumbling', start: '2026-11-22T00:05:00.000Z', end: '2026-11-22T00:10:00.000Z' },
  values: { claims: 6 },
  sources: [],
  sourceCount: 6,
};
const spec = (type: NotifierSpec['type'], extra: Partial<NotifierSpec> = {}): NotifierSpec => ({
  name: type,
  type,
  url: 'http://127.0.0.1/x',
  severities: [],
  rules: [],
  ...extra,
});

describe('notifier payloads', () => {
  it('webhook: the alert itself, with the alert id as idempotency key', () => {
    const r = notifierRequest(spec('webhook'), alert);
    expect(JSON.parse(r.body)).toEqual(alert);
    expect(r.headers['idempotency-key']).toBe('abc');
  });

  it('slack: a text line', () => {
    expect(JSON.parse(notifierRequest(spec('slack'), alert).body)).toEqual({
      text: '[HIGH] Claim burst (key 42) window 2026-11-22T00:05:00.000Z – 2026-11-22T00:10:00.000Z: claims=6',
    });
  });

  it('alertmanager: a list of alerts with labels and annotations', () => {
    const [a] = JSON.parse(notifierRequest(spec('alertmanager'), alert).body);
    expect(a.labels).toEqual({ alertname: 'claim-burst', severity: 'high', key: '42', alert_id: 'abc', source: 'tideway-alerting' });
    expect(a.startsAt).toBe(alert.eventTime);
  });

  it('filters by severity and rule; retries 408, 429 and 5xx only', () => {
    expect(notifierWants(spec('webhook', { severities: ['low'] }), alert)).toBe(false);
    expect(notifierWants(spec('webhook', { rules: ['claim-burst'] }), alert)).toBe(true);
    expect([408, 429, 500, 503, 400, 404].map(isRetriableStatus)).toEqual([true, true, true, true, false, false]);
  });
});
