#!/usr/bin/env node
/**
 * Benchmark of `tideway alerting` against the local Kafka (`npm run stack:up`). Needs
 * `npm run build` first: it runs the service from dist/.
 *
 *   npm run build && node bench/alerting/bench.js throughput [events=200000]
 *     e.g. node bench/alerting/bench.js throughput 10000   (a short check)
 *     Pre-loads `events` transactions, starts one instance with bench/alerting/rules.yaml
 *     (10 rules, 3 windowed aggregations) and times it from ready until its group has committed
 *     every input record and every repartitioned record. Reports events/s, CPU µs per event,
 *     Kafka transactions committed, and peak RSS.
 *   npm run build && node bench/alerting/bench.js latency [rate=5000] [seconds=30] [warmupSeconds=10]
 *     e.g. node bench/alerting/bench.js latency 5000 5 2   (a short check)
 *     Starts one instance, then produces at a fixed rate: `warmupSeconds` not measured (JIT,
 *     first transactions), then `seconds` measured. Every predicate alert carries its event's
 *     send time: reports p50/p99/max from send to the alert being readable with read_committed,
 *     over all predicate alerts (~10 % of events), over `amount-over-threshold` alone (~0.1 %),
 *     and over the warm-up's alerts; split into send → the service producing the alert in its
 *     transaction (`untilSent`, from the alert record's timestamp) and from there to the reader
 *     (`sentToRead`: the commit, the reader's fetch); CPU µs per event at that rate; and peak RSS.
 *
 * CPU per event (µs CPU/event, cpuMicrosPerRecord): user + system CPU of the `tideway alerting`
 * process (all its threads) over the timed interval (throughput: ready until the last committed
 * offset moved; latency: the first measured event until its threshold alerts were read) divided by
 * the events of that interval. Each run prints its line and `RESULT {json}` (bench/kit.js).
 * ALERTING_* variables in the environment reach the instance (e.g. ALERTING_EVALUATION_THREADS=1).
 * bench/alerting/cpu-split.sh, started beside a run, shows the CPU per thread and the broker's.
 *
 * Everything it creates is named bench-alerting-<random> and deleted at the end.
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const kit = require('../kit');

const prefix = `bench-alerting-${randomBytes(3).toString('hex')}`;
const topics = { input: `${prefix}.transactions`, sink: `${prefix}.aggregates`, alerts: `${prefix}.alerts` };
const kafka = kit.benchKafka();
const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'PT', 'NL', 'BE', 'US', 'GB', 'KP'];
// Midday on a weekday: night-hours and weekend rules fire on the latency run's real clock only.
const T0 = Date.parse('2026-11-24T12:00:00Z');

let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
function txn(i, ts, extra = {}) {
  const home = COUNTRIES[Math.floor(rand() * 9)];
  return {
    txn_id: `T${i}`,
    account_id: `A${Math.floor(rand() * 5000)}`,
    amount: Math.round(rand() * 1_000_000) / 100,
    country: rand() < 0.9 ? home : COUNTRIES[Math.floor(rand() * 10)],
    account_country: home,
    channel: rand() < 0.5 ? 'pos' : 'web',
    ts: new Date(ts).toISOString(),
    ...extra,
  };
}

function startAlerting(env) {
  const rules = readFileSync(join(__dirname, 'rules.yaml'), 'utf8').replace(/TOPIC/g, topics.input).replace(/SINK/g, topics.sink);
  const file = join(mkdtempSync(join(tmpdir(), 'bench-alerting-')), 'rules.yaml');
  writeFileSync(file, rules);
  return kit.startService('alerting', { ALERTING_RULES: file, ALERTING_GROUP_ID: prefix, ALERTS_TOPIC: topics.alerts, ...env });
}

async function lagged(admin, group, topic) {
  const ends = await admin.endOffsets(topic);
  const committed = await admin.committedOffsets(group, topic);
  let behind = 0n;
  for (const e of ends) {
    const c = BigInt(committed.find((x) => x.partition === e.partition)?.offset ?? '-1');
    const end = BigInt(e.offset);
    // A transactional topic ends with a commit marker the group never commits past.
    if (end > 0n && c + 1n < end) behind += end - (c < 0n ? 0n : c);
  }
  return behind;
}

async function produceAll(messages) {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2000) await producer.send(messages.slice(i, i + 2000));
  await producer.disconnect();
}

async function cleanup(admin) {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  await admin.deleteTopics(mine).catch(() => undefined);
}

async function throughput(n) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic: topics.input, partitions: 4 }]);
  const messages = [];
  // Event time runs forward ~1 ms per event, so windows close as the stream goes.
  for (let i = 0; i < n; i++) {
    const t = txn(i, T0 + i * 2);
    messages.push({ topic: topics.input, key: t.account_id, value: JSON.stringify(t) });
  }
  await produceAll(messages);
  const alerting = await startAlerting({ ALERTING_INTERNAL_PARTITIONS: '4' });
  await alerting.ready();
  const run = kit.measure(alerting.pid);
  // Done when every input record is committed and the repartition partitions' committed offsets
  // have stopped moving: their ends can be a run of transaction markers (one per producer that
  // wrote there), so "committed == end" does not say it. The time (and CPU) is that of the last move.
  let lastMove = run.mark();
  let lastSum = -1n;
  for (;;) {
    await kit.sleep(100);
    if (alerting.exited()) throw new Error(`tideway alerting exited with ${alerting.child.exitCode}`);
    const committed = await admin.committedOffsets(prefix, `${prefix}.repartition`).catch(() => []);
    const sum = committed.reduce((acc, o) => acc + BigInt(o.offset), 0n);
    if (sum !== lastSum) {
      lastSum = sum;
      lastMove = run.mark();
    }
    if ((await lagged(admin, prefix, topics.input)) === 0n && committed.length > 0 && Number(process.hrtime.bigint() - lastMove.at) / 1e6 >= 2000) break;
  }
  const r = run.end(n, lastMove);
  const rss = kit.peakRssMiB(alerting.pid);
  const metrics = await alerting.metrics();
  const sum = (re) => [...metrics.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
  const alerts = sum(/^tideway_alerting_alerts_total\{[^}]*\} (\d+)/gm);
  const transactions = sum(/^tideway_alerting_transactions_total\{[^}]*\} (\d+)/gm);
  await alerting.stop();
  await cleanup(admin);
  await admin.disconnect();
  kit.result(
    'alerting',
    'throughput',
    {
      mode: 'throughput',
      events: n,
      seconds: r.seconds,
      eventsPerSecond: Math.round(r.rate),
      cpuSeconds: r.cpuSeconds,
      cpuMicrosPerRecord: r.cpuMicrosPerRecord,
      alerts,
      transactions,
      peakRssMiB: Math.round(rss),
    },
    `throughput: ${n} events in ${r.seconds.toFixed(2)} s → ${Math.round(r.rate)} events/s, ${kit.cpuText(r.cpuMicrosPerRecord, 'event')} (${alerts} alerts, ${transactions} transactions), peak RSS ${Math.round(rss)} MiB`,
  );
}

async function latency(rate, seconds, warmupSeconds) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic: topics.input, partitions: 4 }]);
  const alerting = await startAlerting({ ALERTING_INTERNAL_PARTITIONS: '4', ALERTING_FETCH_MAX_WAIT_MS: '20' });
  await alerting.ready();
  // Every alert of a predicate rule carries the event's fields, so its send time: all of them are
  // measured (~10 % of events), and separately those of `amount-over-threshold` (~0.1 %, the
  // sample earlier runs reported). Events sent during the warm-up are marked and left out.
  const measured = { all: [], threshold: [], warmupAll: [], untilSent: [], sentToRead: [] };
  const consumer = kafka.consumer({ groupId: `${prefix}.reader`, fromBeginning: true, readCommitted: true, maxWaitTimeMs: 20 });
  await consumer.connect();
  await consumer.subscribe([topics.alerts]);
  await consumer.run(async (batch) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const a = JSON.parse(m.value.toString());
      const sentAt = a.values && a.values.sent_at;
      if (typeof sentAt !== 'number') continue;
      if (a.values.warmup) measured.warmupAll.push(now - sentAt);
      else {
        measured.all.push(now - sentAt);
        // The alert record's timestamp is when the service sent it, inside its transaction.
        measured.untilSent.push(Number(m.timestamp) - sentAt);
        measured.sentToRead.push(now - Number(m.timestamp));
        if (a.rule === 'amount-over-threshold') measured.threshold.push(now - sentAt);
      }
    }
  });
  await kit.sleep(3000);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const warmupEnd = Date.now() + warmupSeconds * 1000;
  const end = warmupEnd + seconds * 1000;
  let i = 0;
  let expected = 0;
  let produced = 0;
  let next = Date.now();
  let run;
  while (Date.now() < end) {
    const batch = [];
    const now = Date.now();
    const warmup = now < warmupEnd;
    // The service's CPU is measured from the first event after the warm-up.
    if (!warmup && run === undefined) run = kit.measure(alerting.pid);
    for (let k = 0; k < perTick; k++, i++) {
      const t = txn(i, now, warmup ? { sent_at: now, warmup: true } : { sent_at: now });
      if (!warmup && t.amount > 9990) expected++;
      if (!warmup) produced++;
      batch.push({ topic: topics.input, key: t.account_id, value: JSON.stringify(t) });
    }
    // A fresh topic's metadata can lag its creation for a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.send(batch);
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await kit.sleep(200);
      }
    }
    next += tickMs;
    const wait = next - Date.now();
    if (wait > 0) await kit.sleep(wait);
  }
  await producer.disconnect();
  // Every threshold alert is waited for, however far behind the service is (up to two minutes
  // more); then one more second for the other rules' alerts of the last events.
  const waitUntil = Date.now() + 120_000;
  while (measured.threshold.length < expected && Date.now() < waitUntil) await kit.sleep(250);
  // The service's CPU for the events sent at the fixed rate, until their threshold alerts were read.
  const cpu = run.end(produced);
  await kit.sleep(1000);
  const rss = kit.peakRssMiB(alerting.pid);
  await consumer.disconnect();
  await alerting.stop();
  await cleanup(admin);
  await admin.disconnect();
  const stats = kit.quantiles;
  const all = stats(measured.all);
  const achievedRate = Math.round(produced / seconds);
  kit.result(
    'alerting',
    'latency',
    {
      mode: 'latency',
      targetRate: rate,
      achievedRate,
      warmupSeconds,
      seconds,
      cpuSeconds: cpu.cpuSeconds,
      cpuMicrosPerRecord: cpu.cpuMicrosPerRecord,
      thresholdAlertsExpected: expected,
      allPredicateAlerts: all,
      // all = untilSent (fetch, evaluation, waiting for the commit) + sentToRead (commit, reader's fetch).
      untilSent: stats(measured.untilSent),
      sentToRead: stats(measured.sentToRead),
      thresholdAlerts: stats(measured.threshold),
      warmupAlerts: stats(measured.warmupAll),
      peakRssMiB: Math.round(rss),
    },
    `latency: ${achievedRate} events/s for ${seconds} s: all predicate alerts p50 ${all.p50Ms} ms, p99 ${all.p99Ms} ms, max ${all.maxMs} ms (${all.n} alerts), ${kit.cpuText(cpu.cpuMicrosPerRecord, 'event')}, peak RSS ${Math.round(rss)} MiB`,
  );
}

const [mode = 'throughput', a1, a2] = process.argv.slice(2);
kit.run(() => (mode === 'latency' ? latency(Number(a1 || 5000), Number(a2 || 30), Number(process.argv[5] ?? 10)) : throughput(Number(a1 || 200000))));
