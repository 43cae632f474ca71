/**
 * Windowed aggregations and rules on the real Kafka, in event time: tumbling, hopping, sliding
 * and session windows with out-of-order and late events, `emit: update`, day of week in a time
 * zone, and seed 002's 5-minute claims aggregation checked against a computation in the test.
 */
import { TidewayProcess } from '../../../test-support/tideway-process';
import { createTopics, deleteTopicsWithPrefix, produce, serviceKafka, waitCaughtUp } from '../../../test-support/kafka';
import { json, readTopicEventually } from '../../../test-support/kafka-read';
import { uniqueName } from '../../../test-support/stack';
import { changeEvent, writeRules } from './support/fixtures';

jest.setTimeout(240_000);

const kafka = serviceKafka();
const T0 = Date.parse('2026-11-22T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

interface SinkJson {
  aggregation: string;
  key: string;
  window: { type: string; start: string; end: string };
  values: Record<string, number | null>;
  final: boolean;
}

function results(records: Array<{ value: Buffer | null }>, aggregation: string) {
  return records
    .map((m) => json<SinkJson>(m as never))
    .filter((r) => r.aggregation === aggregation && r.key !== 'z')
    .map((r) => `${r.key} ${r.window.start.slice(11, 19)}-${r.window.end.slice(11, 19)} ${JSON.stringify(r.values)}${r.final ? '' : ' (update)'}`)
    .sort();
}

describe('window types with out-of-order and late events', () => {
  const p = uniqueName('it-windows');
  const topics = { events: `${p}.events`, sink: `${p}.windows`, late: `${p}.late`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('emits each closed window once, with the values computed by hand', async () => {
    await createTopics(kafka, [{ topic: topics.events, partitions: 1 }]);
    const common = (id: string, window: string, aggregate: string, extra = '') =>
      [
        `  - id: ${id}`,
        `    topic: ${topics.events}`,
        '    keyBy: k',
        '    eventTime: ts',
        `    window: ${window}`,
        `    aggregate: ${aggregate}`,
        `    sink: ${topics.sink}`,
        extra,
      ]
        .filter(Boolean)
        .join('\n');
    const rules = [
      'aggregations:',
      common('tum', '{ type: tumbling, size: 5m, allowedLateness: 1m }', '{ n: count, total: sum(v) }', `    lateTopic: ${topics.late}`),
      common('hop', '{ type: hopping, size: 10m, advance: 5m }', '{ n: count, top: max(v) }'),
      common('ses', '{ type: session, gap: 2m }', '{ n: count, low: min(v), mean: avg(v), users: count_distinct(user) }'),
      common('sli', '{ type: sliding, size: 3m }', '{ n: count, total: sum(v) }'),
      'rules:',
      '  - id: burst',
      `    topic: ${topics.events}`,
      '    severity: high',
      '    keyBy: k',
      '    eventTime: ts',
      '    window: { type: sliding, size: 3m }',
      '    aggregate: { n: count }',
      '    when: n >= 2',
      '    cooldown: 10m',
      '',
    ].join('\n');
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
    });
    await proc.waitReady();
    const ev = (k: string, minutes: number, v: number | string, user: string) => ({
      topic: topics.events,
      key: k,
      value: JSON.stringify({ k, ts: at(minutes), v, user }),
    });

    // Phase 1: in order except 3 after 4 (inside tumbling's 1m lateness, late for the 0-lateness sliding window).
    await produce(kafka, [ev('a', 0.5, 1, 'u1'), ev('a', 1, 2, 'u1'), ev('a', 4, '3', 'u2'), ev('a', 3, 4, 'u3'), ev('a', 6, 5, 'u1')]);
    // Watermark 6 closes tumbling [0,5) (end 5 + lateness 1): wait for it so phase 2 is a later batch.
    await readTopicEventually(kafka, topics.sink, (r) => results(r, 'tum').length >= 1);
    // Phase 2: 4.5 is late for tumbling [0,5) and for sliding, still on time for hopping [0,10) and sessions.
    await produce(kafka, [ev('a', 4.5, 100, 'u9'), ev('a', 12, 6, 'u1'), ev('b', 12.5, 7, 'u1'), ev('z', 100, 0, 'u0')]);

    const expected = {
      tum: [
        'a 00:00:00-00:05:00 {"n":4,"total":10}',
        'a 00:05:00-00:10:00 {"n":1,"total":5}',
        'a 00:10:00-00:15:00 {"n":1,"total":6}',
        'b 00:10:00-00:15:00 {"n":1,"total":7}',
      ],
      hop: [
        'a 23:55:00-00:05:00 {"n":4,"top":4}',
        'a 00:00:00-00:10:00 {"n":6,"top":100}',
        'a 00:05:00-00:15:00 {"n":2,"top":6}',
        'a 00:10:00-00:20:00 {"n":1,"top":6}',
        'b 00:05:00-00:15:00 {"n":1,"top":7}',
        'b 00:10:00-00:20:00 {"n":1,"top":7}',
      ],
      // Session end = last event. 4.5 arrives after [3,4] closed (watermark 6 ≥ 4 + gap) and joins [6].
      ses: [
        'a 00:00:30-00:01:00 {"n":2,"low":1,"mean":1.5,"users":1}',
        'a 00:03:00-00:04:00 {"n":2,"low":3,"mean":3.5,"users":2}',
        'a 00:04:30-00:06:00 {"n":2,"low":5,"mean":52.5,"users":2}',
        'a 00:12:00-00:12:00 {"n":1,"low":6,"mean":6,"users":1}',
        'b 00:12:30-00:12:30 {"n":1,"low":7,"mean":7,"users":1}',
      ],
      // One window (t - 3m, t] per on-time event; 3 and 4.5 were late.
      sli: [
        'a 23:57:30-00:00:30 {"n":1,"total":1}',
        'a 23:58:00-00:01:00 {"n":2,"total":3}',
        'a 00:01:00-00:04:00 {"n":1,"total":3}',
        'a 00:03:00-00:06:00 {"n":2,"total":8}',
        'a 00:09:00-00:12:00 {"n":1,"total":6}',
        'b 00:09:30-00:12:30 {"n":1,"total":7}',
      ],
    };
    const total = Object.values(expected).reduce((n, l) => n + l.length, 0);
    await readTopicEventually(kafka, topics.sink, (r) => r.filter((m) => json<SinkJson>(m).key !== 'z').length >= total);
    await new Promise((r) => setTimeout(r, 2000));
    const sink = await readTopicEventually(kafka, topics.sink, () => true);
    for (const [id, list] of Object.entries(expected)) expect({ id, got: results(sink, id) }).toEqual({ id, got: [...list].sort() });
    expect(sink.filter((m) => json<SinkJson>(m).key !== 'z')).toHaveLength(total);
    // Keyed by the group key.
    expect(new Set(sink.map((m) => m.key?.toString()))).toEqual(new Set(['a', 'b']));

    const late = await readTopicEventually(kafka, topics.late, (r) => r.length >= 1);
    expect(late.map((m) => json(m))).toEqual([expect.objectContaining({ rule: 'tum', key: 'a', eventTime: at(4.5) })]);

    // burst: (−2m, 1m] holds 2 events → one alert; (3m, 6m] also holds 2 but is in the 10m cooldown.
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 1)).map((m) => json(m));
    expect(alerts).toEqual([
      expect.objectContaining({ rule: 'burst', key: 'a', severity: 'high', values: { n: 2 }, window: { type: 'sliding', start: at(-2), end: at(1) } }),
    ]);
    const metrics = await proc.metrics();
    expect(metrics).toMatch(/tideway_alerting_late_events_total\{[^}]*rule="tum"[^}]*\} 1\n/);
    expect(metrics).toMatch(/tideway_alerting_late_events_total\{[^}]*rule="sli"[^}]*\} 2\n/);
    expect(metrics).toMatch(/tideway_alerting_alerts_suppressed_total\{[^}]*rule="burst"[^}]*\} 1\n/);
  });
});

describe('emit on every update, and day of week in a time zone', () => {
  const p = uniqueName('it-emit');
  const topics = { events: `${p}.events`, sink: `${p}.updates`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it("publishes each window's running result as it changes, and reads the weekday in Europe/Paris", async () => {
    await createTopics(kafka, [{ topic: topics.events, partitions: 1 }]);
    const rules = [
      'aggregations:',
      `  - { id: upd, topic: ${topics.events}, keyBy: k, eventTime: ts, window: { type: tumbling, size: 5m }, emit: update, aggregate: { n: count, total: sum(v) }, sink: ${topics.sink} }`,
      'rules:',
      // Sunday in Paris (UTC+1 in November): 2026-11-21T23:30Z is Sunday 00:30 there, 2026-11-22T23:30Z Monday 00:30.
      `  - { id: sunday-paris, topic: ${topics.events}, severity: low, keyBy: k, eventTime: ts, when: 'timestamp(ts).getDayOfWeek("Europe/Paris") == 0' }`,
      '',
    ].join('\n');
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '1',
    });
    await proc.waitReady();
    const ev = (k: string, ts: string, v: number) => ({ topic: topics.events, key: k, value: JSON.stringify({ k, ts, v }) });
    await produce(kafka, [
      ev('a', '2026-11-21T22:30:00Z', 1), // Saturday 23:30 in Paris
      ev('a', '2026-11-21T23:30:00Z', 2), // Sunday 00:30 in Paris
      ev('a', '2026-11-21T23:31:00Z', 3), // Sunday 00:31 in Paris
      ev('a', '2026-11-22T23:30:00Z', 4), // Monday 00:30 in Paris, Sunday in UTC
    ]);
    const expected = [
      'a 22:30:00-22:35:00 {"n":1,"total":1} (update)',
      'a 23:30:00-23:35:00 {"n":1,"total":2} (update)',
      'a 23:30:00-23:35:00 {"n":2,"total":5} (update)',
      'a 23:30:00-23:35:00 {"n":1,"total":4} (update)',
    ];
    const sink = await readTopicEventually(kafka, topics.sink, (r) => r.length >= expected.length);
    expect(results(sink, 'upd')).toEqual([...expected].sort());
    const alerts = (await readTopicEventually(kafka, topics.alerts, (r) => r.length >= 2)).map((m) => json<{ rule: string; values: { ts: string } }>(m));
    await new Promise((r) => setTimeout(r, 1000));
    const all = (await readTopicEventually(kafka, topics.alerts, () => true)).map((m) => json<{ rule: string; values: { ts: string } }>(m));
    expect(alerts.length).toBe(2);
    expect(all.map((a) => `${a.rule} ${a.values.ts}`).sort()).toEqual(['sunday-paris 2026-11-21T23:30:00Z', 'sunday-paris 2026-11-21T23:31:00Z']);
  });
});

describe("seed 002's claims aggregation", () => {
  const p = uniqueName('it-claims');
  const topics = { claims: `${p}.claims.changes`, sink: `${p}.claims.aggregated.5min`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('publishes count and sum(amount) per policy and 5-minute window, as computed here', async () => {
    await createTopics(kafka, [{ topic: topics.claims, partitions: 3 }]);
    // examples/rules/claims-5min.yaml, with lateness covering the data's span: the claims are
    // spread over 3 input partitions read in no fixed order, and none of them may count as late.
    const rules = [
      'aggregations:',
      '  - id: claims-5min',
      `    topic: ${topics.claims}`,
      '    filter: op == "c"',
      '    keyBy: after.policy_id',
      '    eventTime: after.created_at',
      '    window: { type: tumbling, size: 5m, allowedLateness: 1h }',
      '    aggregate: { count: count, total_amount: sum(after.amount) }',
      `    sink: ${topics.sink}`,
      '',
    ].join('\n');
    proc = await TidewayProcess.start('alerting', {
      ALERTING_RULES: writeRules(rules),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '3',
      ALERTING_IDLE_TIMEOUT_MS: '1000',
    });
    await proc.waitReady();

    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const claims = Array.from({ length: 400 }, (_, i) => ({
      claim_id: i + 1,
      policy_id: 100 + Math.floor(rand() * 6),
      amount: (Math.floor(rand() * 1_000_000) / 100).toFixed(2),
      created_at: new Date(T0 + Math.floor(rand() * 40 * 60_000)).toISOString(),
    }));
    const updates = claims.slice(0, 60).map((c) => ({ ...c, amount: '999999.99' }));
    const expected = new Map<string, { count: number; total: number }>();
    for (const c of claims) {
      const start = Math.floor(Date.parse(c.created_at) / 300_000) * 300_000;
      const k = `${c.policy_id} ${new Date(start).toISOString()}`;
      const e = expected.get(k) ?? { count: 0, total: 0 };
      e.count++;
      e.total += Number(c.amount);
      expected.set(k, e);
    }
    await produce(kafka, [
      ...claims.map((c) => ({ topic: topics.claims, key: JSON.stringify({ claim_id: c.claim_id }), value: changeEvent('claims', 'c', c) })),
      ...updates.map((c) => ({ topic: topics.claims, key: JSON.stringify({ claim_id: c.claim_id }), value: changeEvent('claims', 'u', c, c) })),
    ]);
    await waitCaughtUp(kafka, p, topics.claims);
    await produce(kafka, [
      // A claim 3 hours later moves event time past every window (+ lateness); idle partitions follow it.
      {
        topic: topics.claims,
        key: '{"claim_id":0}',
        value: changeEvent('claims', 'c', { claim_id: 0, policy_id: 999, amount: '1.00', created_at: new Date(T0 + 3 * 3_600_000).toISOString() }),
      },
    ]);

    const sink = (await readTopicEventually(kafka, topics.sink, (r) => r.length >= expected.size)).map((m) => ({
      key: m.key?.toString(),
      v: json<SinkJson>(m),
    }));
    await new Promise((r) => setTimeout(r, 3000));
    const all = (await readTopicEventually(kafka, topics.sink, () => true)).map((m) => ({ key: m.key?.toString(), v: json<SinkJson>(m) }));
    expect(sink.length).toBeGreaterThanOrEqual(expected.size);
    const got = new Map<string, { count: number; total: number }>();
    for (const { key, v } of all) {
      expect(key).toBe(v.key);
      expect(Date.parse(v.window.end) - Date.parse(v.window.start)).toBe(300_000);
      const k = `${v.key} ${v.window.start}`;
      expect(got.has(k)).toBe(false); // each window exactly once
      got.set(k, { count: v.values.count!, total: v.values.total_amount! });
    }
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, e] of expected) {
      expect({ k, count: got.get(k)!.count }).toEqual({ k, count: e.count });
      expect(got.get(k)!.total).toBeCloseTo(e.total, 2);
    }
  });
});
