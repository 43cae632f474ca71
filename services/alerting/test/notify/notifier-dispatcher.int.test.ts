/**
 * Notifiers against a real HTTP receiver on 127.0.0.1 (the webhook endpoint itself, started by
 * the test): it fails, hangs past the timeout, then recovers; every alert arrives with its
 * idempotency key; a notifier that never recovers is given up on without blocking anything.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TidewayProcess } from '../../../../test-support/tideway-process';
import { createTopics, deleteTopicsWithPrefix, produce, serviceKafka } from '../../../../test-support/kafka';
import { json, readTopicEventually } from '../../../../test-support/kafka-read';
import { uniqueName } from '../../../../test-support/stack';
import { writeRules } from '../support/fixtures';

jest.setTimeout(180_000);

const kafka = serviceKafka();

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

function receiver(respond: (path: string, nth: number) => number | 'hang'): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const path = req.url ?? '';
      const nth = (counts.get(path) ?? 0) + 1;
      counts.set(path, nth);
      const action = respond(path, nth);
      received.push({ path, headers: req.headers, body: JSON.parse(data) });
      if (action === 'hang') return; // never answers: the notifier's timeout must fire
      res.writeHead(action, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received })),
  );
}

describe('notifiers', () => {
  const p = uniqueName('it-notify');
  const topics = { events: `${p}.events`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;
  let server: Server | undefined;

  afterAll(async () => {
    await proc?.stop();
    server?.closeAllConnections();
    server?.close();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('retry a failing webhook until it recovers, give up on one that never does, and never hold up the alerts topic', async () => {
    // /hook: 503, then a request that hangs, then 200 for good. /slack: always 200. /am: always 500.
    const rx = await receiver((path, nth) => (path === '/hook' ? (nth === 1 ? 503 : nth === 2 ? 'hang' : 200) : path === '/am' ? 500 : 200));
    server = rx.server;
    await createTopics(kafka, [{ topic: topics.events, partitions: 1 }]);
    const rules = [
      'rules:',
      '  - id: big',
      `    topic: ${topics.events}`,
      '    severity: high',
      '    keyBy: account',
      '    when: amount > 100',
      '  - id: small',
      `    topic: ${topics.events}`,
      '    severity: low',
      '    keyBy: account',
      '    when: amount < 0',
      'notifiers:',
      `  - { name: hook, type: webhook, url: "${rx.url}/hook", severities: [high] }`,
      `  - { name: chat, type: slack, url: "${rx.url}/slack" }`,
      `  - { name: am, type: alertmanager, url: "${rx.url}/am", rules: [big] }`,
      '',
    ].join('\n');
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
      NOTIFIER_TIMEOUT_MS: '1000',
      NOTIFIER_MAX_ATTEMPTS: '4',
      NOTIFIER_BACKOFF_INITIAL_MS: '100',
      NOTIFIER_BACKOFF_MAX_MS: '300',
    });
    await proc.waitReady();
    await produce(kafka, [
      { topic: topics.events, key: 'a1', value: JSON.stringify({ account: 'a1', amount: 500 }) },
      { topic: topics.events, key: 'a2', value: JSON.stringify({ account: 'a2', amount: -5 }) },
      { topic: topics.events, key: 'a3', value: JSON.stringify({ account: 'a3', amount: 900 }) },
    ]);
    // The alerts are on the topic whatever the webhooks do.
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 3)).map((m) => json<{ id: string; rule: string; key: string }>(m));
    expect(alerts.map((a) => `${a.rule}:${a.key}`)).toEqual(['big:a1', 'small:a2', 'big:a3']);
    const ids = new Map(alerts.map((a) => [a.key, a.id]));

    const deadline = Date.now() + 60_000;
    const delivered = (path: string) => new Set(rx.received.filter((r) => r.path === path).map((r) => r.headers['idempotency-key']));
    while ((delivered('/hook').size < 2 || rx.received.filter((r) => r.path === '/am').length < 8 || delivered('/slack').size < 3) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));

    // webhook: high only; a1 took 3 requests (503, timeout, 200), a3 one; each with its alert id as idempotency key.
    const hook = rx.received.filter((r) => r.path === '/hook');
    expect(hook.map((r) => r.headers['idempotency-key'])).toEqual([ids.get('a1'), ids.get('a1'), ids.get('a1'), ids.get('a3')]);
    expect(hook[2].body).toEqual(expect.objectContaining({ id: ids.get('a1'), rule: 'big', severity: 'high', key: 'a1' }));
    // slack: every alert, as text.
    const slack = rx.received.filter((r) => r.path === '/slack');
    expect(slack.map((r) => r.headers['idempotency-key'])).toEqual([ids.get('a1'), ids.get('a2'), ids.get('a3')]);
    expect((slack[0].body as { text: string }).text).toContain('[HIGH] big (key a1)');
    // alertmanager: rule big only, 4 attempts each, then given up.
    const am = rx.received.filter((r) => r.path === '/am');
    expect(am.map((r) => r.headers['idempotency-key'])).toEqual([...Array(4).fill(ids.get('a1')), ...Array(4).fill(ids.get('a3'))]);
    expect(am[0].body).toEqual([
      expect.objectContaining({
        labels: expect.objectContaining({ alertname: 'big', severity: 'high', alert_id: ids.get('a1') }),
        startsAt: expect.any(String),
      }),
    ]);

    const metrics = await proc.metrics();
    expect(metrics).toMatch(/tideway_alerting_notifications_total\{[^}]*notifier="hook"[^}]*outcome="sent"[^}]*\} 2\n/);
    expect(metrics).toMatch(/tideway_alerting_notifications_total\{[^}]*notifier="am"[^}]*outcome="failed"[^}]*\} 2\n/);
    expect(metrics).toMatch(/tideway_alerting_notifier_failures_total\{[^}]*notifier="hook"[^}]*\} 2\n/);
    expect(metrics).toMatch(/tideway_alerting_notifier_failures_total\{[^}]*notifier="am"[^}]*\} 8\n/);
    expect(proc.output.join('')).not.toContain(rx.url);
  });
});
