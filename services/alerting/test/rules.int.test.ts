/**
 * `tideway alerting` as a child process on the real Kafka: seed 003's fraud rules (field
 * comparisons, field-to-field, hour of day of the event time, enrichment from a CDC table
 * topic), dead-lettering of malformed events, invalid rule files, and reloading rules.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DLQ_HEADER } from '@tideway/runtime';
import { runTidewaySync, TidewayProcess } from '../../../test-support/tideway-process';
import { createTopics, deleteTopicsWithPrefix, produce, serviceKafka } from '../../../test-support/kafka';
import { json, readTopicEventually } from '../../../test-support/kafka-read';
import { uniqueName } from '../../../test-support/stack';
import { changeEvent, writeRules } from './support/fixtures';

jest.setTimeout(180_000);

const kafka = serviceKafka();
const FRAUD = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'rules', 'fraud.yaml'), 'utf8');

interface AlertJson {
  id: string;
  rule: string;
  severity: string;
  key: string | null;
  values: Record<string, unknown>;
  sources: Array<{ topic: string; partition: number; offset: string }>;
}

describe('fraud rules (seed 003) on a plain JSON topic', () => {
  const p = uniqueName('it-fraud');
  const topics = { transactions: `${p}.transactions`, accounts: `${p}.accounts.changes`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('raises each rule on the events that match it, enriches from the accounts table, and dead-letters malformed events', async () => {
    await createTopics(kafka, [
      { topic: topics.transactions, partitions: 3 },
      { topic: topics.accounts, partitions: 2 },
    ]);
    // The accounts table (CDC envelopes): A-2 lives in DE; A-3 moved from FR to ES.
    await produce(kafka, [
      { topic: topics.accounts, key: '{"account_id":"A-2"}', value: changeEvent('accounts', 'c', { account_id: 'A-2', country: 'DE' }) },
      { topic: topics.accounts, key: '{"account_id":"A-3"}', value: changeEvent('accounts', 'c', { account_id: 'A-3', country: 'FR' }) },
      {
        topic: topics.accounts,
        key: '{"account_id":"A-3"}',
        value: changeEvent('accounts', 'u', { account_id: 'A-3', country: 'ES' }, { account_id: 'A-3', country: 'FR' }),
      },
    ]);
    const rules = FRAUD.replace(/topic: transactions/g, `topic: ${topics.transactions}`)
      .replace('topic: accounts.changes', `topic: ${topics.accounts}`)
      .replace(/notifiers:[\s\S]*$/, '');
    // Evaluated on two threads: the lookup table reaches them as a copy.
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '2',
      ALERTING_EVALUATION_THREADS: '2',
    });
    await proc.waitReady();

    const txns = [
      // amount-over-threshold only (daytime, same country)
      { txn_id: 't1', account_id: 'A-1', amount: 60000, country: 'FR', account_country: 'FR', ts: '2026-11-20T12:00:00Z' },
      // decimal string from CDC-like sources counts as a number
      { txn_id: 't2', account_id: 'A-1', amount: '50000.01', country: 'FR', account_country: 'FR', ts: '2026-11-20T12:00:00Z' },
      // at the threshold: nothing
      { txn_id: 't3', account_id: 'A-1', amount: 50000, country: 'FR', account_country: 'FR', ts: '2026-11-20T12:00:00Z' },
      // country-mismatch with the country on the event
      { txn_id: 't4', account_id: 'A-1', amount: 10, country: 'US', account_country: 'FR', ts: '2026-11-20T12:00:00Z' },
      // country-mismatch through the accounts table (no account_country on the event): A-2 is DE
      { txn_id: 't5', account_id: 'A-2', amount: 10, country: 'FR', ts: '2026-11-20T12:00:00Z' },
      // A-3's latest row says ES: ES is not a mismatch (the first row, FR, would have been)
      { txn_id: 't6', account_id: 'A-3', amount: 10, country: 'ES', ts: '2026-11-20T12:00:00Z' },
      // night-hours: 23:30 ISO, 04:59 as epoch millis; 05:00 and 22:59 are not night
      { txn_id: 't7', account_id: 'A-1', amount: 10, country: 'FR', account_country: 'FR', ts: '2026-11-20T23:30:00Z' },
      { txn_id: 't8', account_id: 'A-1', amount: 10, country: 'FR', account_country: 'FR', ts: Date.parse('2026-11-21T04:59:59Z') },
      { txn_id: 't9', account_id: 'A-1', amount: 10, country: 'FR', account_country: 'FR', ts: '2026-11-21T05:00:00Z' },
      { txn_id: 't10', account_id: 'A-1', amount: 10, country: 'FR', account_country: 'FR', ts: '2026-11-20T22:59:59Z' },
      // all three at once
      { txn_id: 't11', account_id: 'A-9', amount: 99999, country: 'BR', account_country: 'PT', ts: '2026-11-21T02:00:00Z' },
    ];
    await produce(kafka, [
      ...txns.slice(0, 5).map((t) => ({ topic: topics.transactions, key: t.account_id, value: JSON.stringify(t) })),
      // malformed: not JSON, not an object, and an unreadable event time (night-hours needs it)
      { topic: topics.transactions, key: 'bad-1', value: '{"amount": 7' },
      { topic: topics.transactions, key: 'bad-2', value: '[1,2,3]' },
      {
        topic: topics.transactions,
        key: 'bad-3',
        value: JSON.stringify({ txn_id: 'tbad', account_id: 'A-1', amount: 70000, country: 'FR', account_country: 'FR', ts: 'yesterday' }),
      },
      ...txns.slice(5).map((t) => ({ topic: topics.transactions, key: t.account_id, value: JSON.stringify(t) })),
    ]);

    const expected = new Set([
      'amount-over-threshold:t1',
      'amount-over-threshold:t2',
      'country-mismatch:t4',
      'country-mismatch:t5',
      'night-hours:t7',
      'night-hours:t8',
      'amount-over-threshold:t11',
      'country-mismatch:t11',
      'night-hours:t11',
      // bad-3 is dead-lettered for night-hours, but the other rules still see it
      'amount-over-threshold:tbad',
    ]);
    await readTopicEventually(kafka, topics.alerts, (r) => r.length >= expected.size, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const alerts = (await readTopicEventually(kafka, topics.alerts, () => true)).map((m) => json<AlertJson>(m));
    const got = alerts.map((a) => `${a.rule}:${String(a.values.txn_id)}`).sort();
    expect(got).toEqual([...expected].sort());
    const t5 = alerts.find((a) => a.values.txn_id === 't5')!;
    expect(t5.values.account).toEqual({ account_id: 'A-2', country: 'DE' });
    expect(t5.severity).toBe('medium');
    expect(t5.key).toBe('A-2');
    expect(t5.sources[0].topic).toBe(topics.transactions);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);

    const dlq = await readTopicEventually(kafka, `${topics.transactions}.dlq`, (r) => r.length >= 3);
    const reasons = dlq.map((m) => `${m.key?.toString()}:${m.headers[DLQ_HEADER.reason]?.toString()}`).sort();
    expect(reasons).toEqual(['bad-1:malformed_json', 'bad-2:not_an_object', 'bad-3:event_time_invalid']);
    for (const m of dlq) {
      expect(m.headers[DLQ_HEADER.originTopic]?.toString()).toBe(topics.transactions);
      expect(m.headers[DLQ_HEADER.originOffset]).toBeDefined();
    }
    const metrics = await proc.metrics();
    expect(metrics).toMatch(/tideway_dlq_records_total\{[^}]*reason="malformed_json"[^}]*\} 1/);
    expect(metrics).toMatch(/tideway_alerting_alerts_total\{[^}]*rule="night-hours"[^}]*severity="low"[^}]*\} 3/);
  });
});

describe('a rule on a topic that does not exist yet', () => {
  const p = uniqueName('it-missing');
  const topics = { events: `${p}.events`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('says which topic is missing, stays unready, and starts once the topic exists', async () => {
    const rules = `rules:\n  - { id: big, topic: ${topics.events}, severity: high, when: amount > 100 }\n`;
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
    });
    const deadline = Date.now() + 60_000;
    while (!proc.output.join('').includes(`input topic(s) ${topics.events} do not exist`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(proc.logs(20)).toContain(`input topic(s) ${topics.events} do not exist: waiting for them`);
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual(expect.objectContaining({ checks: expect.objectContaining({ 'input-topics': false }) }));

    await createTopics(kafka, [{ topic: topics.events, partitions: 1 }]);
    await produce(kafka, [{ topic: topics.events, key: 'e1', value: JSON.stringify({ amount: 500 }) }]);
    await proc.waitReady();
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 1)).map((m) => json<{ rule: string }>(m));
    expect(alerts.map((a) => a.rule)).toEqual(['big']);
  });
});

describe('rules reload', () => {
  const p = uniqueName('it-reload');
  const topics = { events: `${p}.events`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  const ruleFile = (id: string, when: string) =>
    ['rules:', `  - id: ${id}`, `    topic: ${topics.events}`, '    severity: high', `    when: ${JSON.stringify(when)}`, ''].join('\n');
  const waitForLog = async (text: string) => {
    const deadline = Date.now() + 30_000;
    while (!proc!.output.join('').includes(text)) {
      if (Date.now() > deadline) throw new Error(`no log line "${text}":\n${proc!.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('picks up a changed file without a restart and keeps the old rules when the new file is invalid', async () => {
    await createTopics(kafka, [{ topic: topics.events, partitions: 1 }]);
    const file = writeRules(ruleFile('over-100', 'amount > 100'));
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: file,
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
      ALERTING_WATCH_INTERVAL_MS: '200',
    });
    await proc.waitReady();
    await produce(kafka, [{ topic: topics.events, key: 'e1', value: JSON.stringify({ n: 1, amount: 150 }) }]);
    await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 1);

    writeFileSync(file, ruleFile('over-100', 'amount >'));
    await waitForLog('rules reload rejected');
    expect(proc.output.join('')).toContain('rules[0] (over-100).when: invalid CEL');
    await produce(kafka, [{ topic: topics.events, key: 'e2', value: JSON.stringify({ n: 2, amount: 200 }) }]);
    await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 2);

    writeFileSync(file, ruleFile('over-1000', 'amount > 1000'));
    await waitForLog('rules reloaded');
    await produce(kafka, [
      { topic: topics.events, key: 'e3', value: JSON.stringify({ n: 3, amount: 500 }) },
      { topic: topics.events, key: 'e4', value: JSON.stringify({ n: 4, amount: 5000 }) },
    ]);
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 3)).map((m) => json<AlertJson>(m));
    expect(alerts.map((a) => `${a.rule}:${String(a.values.n)}`)).toEqual(['over-100:1', 'over-100:2', 'over-1000:4']);
    expect(proc.child.exitCode).toBeNull();
  });

  it('reloads on SIGHUP when file watching is off', async () => {
    await proc?.stop();
    const file = writeRules(ruleFile('over-10k', 'amount > 10000'));
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: file,
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
      ALERTING_WATCH_RULES: 'false',
    });
    await proc.waitReady();
    writeFileSync(file, ruleFile('over-1', 'amount > 1'));
    proc.child.kill('SIGHUP');
    await waitForLog('rules reloaded');
    await produce(kafka, [{ topic: topics.events, key: 'e5', value: JSON.stringify({ n: 5, amount: 50 }) }]);
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 4)).map((m) => json<AlertJson>(m));
    expect(alerts.map((a) => `${a.rule}:${String(a.values.n)}`)).toEqual(['over-100:1', 'over-100:2', 'over-1000:4', 'over-1:5']);
  });
});

describe('invalid rules file', () => {
  it('exits 2 with one line naming the rule and the field', () => {
    const file = writeRules(
      [
        'rules:',
        '  - id: burst',
        '    topic: claims',
        '    severity: high',
        '    keyBy: after.policy_id',
        '    window: { type: hopping, size: 10m }',
        '    aggregate: { n: count }',
        '    when: n > 5',
        '',
      ].join('\n'),
    );
    const r = runTidewaySync(['alerting'], { ALERTING_RULES: file, METRICS_PORT: '0' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`tideway alerting: ${file}: rules[0] (burst).window.advance: is required for a hopping window`]);
  });

  it('names an unknown aggregate used in a condition', () => {
    const file = writeRules(
      [
        'aggregations:',
        '  - id: agg',
        '    topic: claims',
        '    window: { type: tumbling, size: 5m }',
        '    aggregate: { total: sum(after.amount) }',
        '    having: totl > 5',
        '    sink: out',
        '',
      ].join('\n'),
    );
    const r = runTidewaySync(['alerting'], { ALERTING_RULES: file, METRICS_PORT: '0' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: aggregations[0] (agg).having: may only use the aggregates (total)`);
  });
});
