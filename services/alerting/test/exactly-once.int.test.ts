/**
 * Exactly once on the real Kafka: SIGKILL mid-stream and mid-window, restart, and the alerts
 * and aggregation topics (read with read_committed) hold every expected result exactly once;
 * two instances in one group split the partitions, and window state follows a partition when
 * its instance leaves; a rebalance that keeps partitions in place does not count pending records twice.
 */
import { TidewayProcess } from '../../../test-support/tideway-process';
import { createTopics, deleteTopicsWithPrefix, produce, serviceKafka, waitCaughtUp } from '../../../test-support/kafka';
import { json, readTopicEventually } from '../../../test-support/kafka-read';
import { uniqueName } from '../../../test-support/stack';
import { changeEvent, writeRules } from './support/fixtures';

jest.setTimeout(420_000);

const kafka = serviceKafka();
const T0 = Date.parse('2026-11-22T00:00:00Z');
const WINDOW = 300_000;

interface Claim {
  claim_id: number;
  policy_id: number;
  amount: string;
  created_at: string;
}

function claims(n: number, firstId: number, seed: number, spanMinutes = 30): Claim[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => ({
    claim_id: firstId + i,
    policy_id: 1 + Math.floor(rand() * 40),
    amount: (Math.floor(rand() * 1_000_000) / 100).toFixed(2),
    created_at: new Date(T0 + Math.floor(rand() * spanMinutes * 60_000)).toISOString(),
  }));
}

function rulesFor(topic: string, sink: string) {
  return [
    'rules:',
    '  - id: big-claim',
    `    topic: ${topic}`,
    '    severity: medium',
    '    filter: op == "c"',
    '    keyBy: after.policy_id',
    '    when: after.amount > 9900',
    '  - id: claim-burst',
    `    topic: ${topic}`,
    '    severity: high',
    '    filter: op == "c"',
    '    keyBy: after.policy_id',
    '    eventTime: after.created_at',
    '    window: { type: tumbling, size: 5m, allowedLateness: 2h }',
    '    aggregate: { claims: count, total: sum(after.amount) }',
    '    when: claims > 12',
    'aggregations:',
    '  - id: claims-5min',
    `    topic: ${topic}`,
    '    filter: op == "c"',
    '    keyBy: after.policy_id',
    '    eventTime: after.created_at',
    '    window: { type: tumbling, size: 5m, allowedLateness: 2h }',
    '    aggregate: { count: count, total_amount: sum(after.amount) }',
    `    sink: ${sink}`,
    '',
  ].join('\n');
}

function expectedResults(all: Claim[]) {
  const windows = new Map<string, { count: number; total: number }>();
  for (const c of all) {
    const k = `${c.policy_id} ${new Date(Math.floor(Date.parse(c.created_at) / WINDOW) * WINDOW).toISOString()}`;
    const w = windows.get(k) ?? { count: 0, total: 0 };
    w.count++;
    w.total += Number(c.amount);
    windows.set(k, w);
  }
  const big = all.filter((c) => Number(c.amount) > 9900).map((c) => String(c.claim_id));
  const bursts = [...windows].filter(([, w]) => w.count > 12).map(([k]) => k);
  return { windows, big, bursts };
}

async function checkOutputs(topics: { sink: string; alerts: string }, all: Claim[]) {
  const exp = expectedResults(all);
  const alertsExpected = exp.big.length + exp.bursts.length;
  await readTopicEventually(kafka, topics.sink, (r) => r.length >= exp.windows.size, 180_000);
  await readTopicEventually(kafka, topics.alerts, (r) => r.length >= alertsExpected, 60_000);
  // Anything doubled would show up after a pause too.
  await new Promise((r) => setTimeout(r, 3000));
  const sink = (await readTopicEventually(kafka, topics.sink, () => true)).map((m) =>
    json<{ key: string; window: { start: string }; values: { count: number; total_amount: number } }>(m),
  );
  const seen = new Map<string, { count: number; total: number }>();
  const dup: string[] = [];
  for (const r of sink) {
    const k = `${r.key} ${r.window.start}`;
    if (seen.has(k)) dup.push(k);
    seen.set(k, { count: r.values.count, total: r.values.total_amount });
  }
  expect(dup).toEqual([]);
  expect([...seen.keys()].filter((k) => !k.startsWith('999 ')).sort()).toEqual([...exp.windows.keys()].sort());
  for (const [k, w] of exp.windows) {
    expect({ k, count: seen.get(k)!.count }).toEqual({ k, count: w.count });
    expect(seen.get(k)!.total).toBeCloseTo(w.total, 2);
  }
  const alerts = (await readTopicEventually(kafka, topics.alerts, () => true)).map((m) =>
    json<{ id: string; rule: string; key: string; window?: { start: string }; values: Record<string, unknown>; sources: Array<{ offset: string }> }>(m),
  );
  expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
  const bigGot = alerts
    .filter((a) => a.rule === 'big-claim')
    .map((a) => String((a.values.after as { claim_id: number }).claim_id))
    .sort();
  expect(bigGot).toEqual([...exp.big].sort());
  const burstGot = alerts
    .filter((a) => a.rule === 'claim-burst')
    .map((a) => `${a.key} ${a.window!.start}`)
    .sort();
  expect(burstGot).toEqual([...exp.bursts].sort());
  return { windows: exp.windows.size, alerts: alerts.length };
}

const flush = (topic: string) => ({
  topic,
  key: '{"claim_id":0}',
  value: changeEvent('claims', 'c', { claim_id: 0, policy_id: 999, amount: '1.00', created_at: new Date(T0 + 6 * 3_600_000).toISOString() }),
});
const toRecords = (topic: string, list: Claim[]) =>
  list.map((c) => ({ topic, key: JSON.stringify({ claim_id: c.claim_id }), value: changeEvent('claims', 'c', { ...c }) }));

async function evaluated(proc: TidewayProcess): Promise<number> {
  const text = await proc.metrics().catch(() => '');
  return [...text.matchAll(/^tideway_alerting_events_evaluated_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('SIGKILL and restart', () => {
  const p = uniqueName('it-eos');
  const topics = { claims: `${p}.claims.changes`, sink: `${p}.claims.5min`, alerts: `${p}.alerts` };
  const procs: TidewayProcess[] = [];

  afterAll(async () => {
    procs.forEach((x, i) => require('node:fs').writeFileSync(`/tmp/${p}-${i}.log`, x.output.join('')));
    for (const x of procs) if (x.child.exitCode === null && x.child.signalCode === null) await x.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('neither loses nor doubles alerts or window results', async () => {
    await createTopics(kafka, [{ topic: topics.claims, partitions: 3 }]);
    // Killed while batches are out on the evaluation thread, too.
    const env = {
      ALERTING_RULES: writeRules(rulesFor(topics.claims, topics.sink)),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '3',
      ALERTING_IDLE_TIMEOUT_MS: '1000',
      ALERTING_SESSION_TIMEOUT_MS: '6000',
      ALERTING_EVALUATION_THREADS: '1',
    };
    const first = await TidewayProcess.start('alerting', env);
    procs.push(first);
    await first.waitReady();
    const all = claims(30_000, 1, 7);
    // Half the claims before the kill, the rest after it: the kill lands part-way through
    // however fast the machine is, with windows open (nothing has reached their end yet).
    const half = all.length / 2;
    await produce(kafka, toRecords(topics.claims, all.slice(0, half)));
    const deadline = Date.now() + 120_000;
    while ((await evaluated(first)) < 6000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const before = await evaluated(first);
    await first.kill();
    expect(before).toBeGreaterThanOrEqual(6000);
    await produce(kafka, toRecords(topics.claims, all.slice(half)));

    const second = await TidewayProcess.start('alerting', env);
    procs.push(second);
    await second.waitReady(90_000);
    // The closing event comes after the data, as it would in time: otherwise records still in
    // flight behind it are late by definition.
    await waitCaughtUp(kafka, p, topics.claims);
    await produce(kafka, [flush(topics.claims)]);
    const counts = await checkOutputs(topics, all);
    expect(counts.windows).toBeGreaterThan(100);
    expect(second.logs(400)).toMatch(/window state restored from changelog/);
  });
});

describe('two instances in one group', () => {
  const p = uniqueName('it-scale');
  const topics = { claims: `${p}.claims.changes`, sink: `${p}.claims.5min`, alerts: `${p}.alerts` };
  const procs: TidewayProcess[] = [];

  afterAll(async () => {
    procs.forEach((x, i) => require('node:fs').writeFileSync(`/tmp/${p}-${i}.log`, x.output.join('')));
    for (const x of procs) if (x.child.exitCode === null && x.child.signalCode === null) await x.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('split the partitions, and window state follows a partition when its instance leaves', async () => {
    await createTopics(kafka, [{ topic: topics.claims, partitions: 4 }]);
    const env = {
      ALERTING_RULES: writeRules(rulesFor(topics.claims, topics.sink)),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '4',
      ALERTING_IDLE_TIMEOUT_MS: '1000',
      ALERTING_SESSION_TIMEOUT_MS: '6000',
    };
    const a = await TidewayProcess.start('alerting', env);
    const b = await TidewayProcess.start('alerting', env);
    procs.push(a, b);
    await Promise.all([a.waitReady(), b.waitReady()]);
    // First half of every window while both run.
    const firstHalf = claims(3000, 1, 11);
    await produce(kafka, toRecords(topics.claims, firstHalf));
    const deadline = Date.now() + 120_000;
    while ((await evaluated(a)) + (await evaluated(b)) < firstHalf.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const [ea, eb] = [await evaluated(a), await evaluated(b)];
    expect(ea).toBeGreaterThan(0);
    expect(eb).toBeGreaterThan(0);
    expect(ea + eb).toBe(firstHalf.length);

    // One instance leaves; the other takes its partitions and their open windows.
    expect(await a.stop()).toBe(0);
    const secondHalf = claims(3000, 100_000, 13);
    await produce(kafka, toRecords(topics.claims, secondHalf));
    await waitCaughtUp(kafka, p, topics.claims);
    await produce(kafka, [flush(topics.claims)]);
    await checkOutputs(topics, [...firstHalf, ...secondHalf]);
    expect(b.logs(400)).toMatch(/window state restored from changelog/);
  });
});

describe('a rebalance that leaves partitions where they are', () => {
  const p = uniqueName('it-rebal');
  const topics = { claims: `${p}.claims.changes`, sink: `${p}.claims.5min`, alerts: `${p}.alerts` };
  let proc: TidewayProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await deleteTopicsWithPrefix(kafka, [p]);
  });

  it('never evaluates a record twice although the consumer fetches again from the last commit', async () => {
    await createTopics(kafka, [{ topic: topics.claims, partitions: 2 }]);
    // A long commit interval keeps evaluated records pending (uncommitted) while the group rebalances.
    const env = {
      ALERTING_RULES: writeRules(rulesFor(topics.claims, topics.sink)),
      ALERTING_GROUP_ID: p,
      ALERTS_TOPIC: topics.alerts,
      ALERTING_INTERNAL_PARTITIONS: '2',
      ALERTING_IDLE_TIMEOUT_MS: '1000',
      ALERTING_COMMIT_INTERVAL_MS: '8000',
    };
    proc = await TidewayProcess.start('alerting', env);
    await proc.waitReady();
    const all = claims(2000, 1, 21);
    await produce(kafka, toRecords(topics.claims, all));
    const deadline = Date.now() + 60_000;
    while ((await evaluated(proc)) < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    // Another member joins the group and leaves again: two rebalances. After each, kafkajs restarts
    // every partition it kept from the committed offset, behind what is pending here.
    const intruder = kafka.consumer({ groupId: p, fromBeginning: true, maxWaitTimeMs: 100 });
    const joined = new Promise<void>((resolve) => intruder.onAssignment(() => resolve()));
    await intruder.connect();
    await intruder.subscribe([topics.claims, `${p}.repartition`]);
    // It must not consume (its handler never returns until it leaves), only take part in the group.
    let leaving = false;
    await intruder.run(async () => {
      while (!leaving) await new Promise((r) => setTimeout(r, 100));
      throw new Error('leaving');
    });
    await joined;
    leaving = true;
    await intruder.disconnect();

    await waitCaughtUp(kafka, p, topics.claims);
    await produce(kafka, [flush(topics.claims)]);
    // Without the position check every window of a kept partition counts its pending records twice.
    await checkOutputs(topics, all);
  });
});
