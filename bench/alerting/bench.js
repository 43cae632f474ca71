#!/usr/bin/env node
/**
 * Benchmark of `tideway alerting` against the local Kafka (npm run stack:up; npm run build).
 *
 *   node bench/alerting/bench.js throughput [events=200000]
 *     Pre-loads `events` transactions, starts one instance with bench/alerting/rules.yaml
 *     (10 rules, 3 windowed aggregations) and times it from ready until its group has committed
 *     every input record and every repartitioned record. Reports events/s, Kafka transactions
 *     committed, and peak RSS.
 *   node bench/alerting/bench.js latency [rate=5000] [seconds=30] [warmupSeconds=10]
 *     Starts one instance, then produces at a fixed rate: `warmupSeconds` not measured (JIT,
 *     first transactions), then `seconds` measured. Every predicate alert carries its event's
 *     send time: reports p50/p99/max from send to the alert being readable with read_committed,
 *     over all predicate alerts (~10 % of events), over `amount-over-threshold` alone (~0.1 %),
 *     and over the warm-up's alerts; split into send → the service producing the alert in its
 *     transaction (`untilSent`, from the alert record's timestamp) and from there to the reader
 *     (`sentToRead`: the commit, the reader's fetch); and peak RSS.
 *
 * ALERTING_* variables in the environment reach the instance (e.g. ALERTING_EVALUATION_THREADS=1).
 * bench/alerting/cpu-split.sh, started beside a run, shows the CPU per thread and the broker's.
 *
 * Everything it creates is named bench-alerting-<random> and deleted at the end.
 */
'use strict';
/* global fetch */
const { randomBytes } = require('node:crypto');
const { readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { spawn } = require('node:child_process');
const { createLogger, KafkajsClient, kafkaConfigFrom } = require('@tideway/runtime');

const ROOT = join(__dirname, '..', '..');
const prefix = `bench-alerting-${randomBytes(3).toString('hex')}`;
const topics = { input: `${prefix}.transactions`, sink: `${prefix}.aggregates`, alerts: `${prefix}.alerts` };
const kafka = new KafkajsClient(kafkaConfigFrom({ kafkaBrokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','), kafkaClientId: 'bench', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10000 }, createLogger('bench', 'silent')));
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

let running;
function startAlerting(env) {
  const rules = readFileSync(join(__dirname, 'rules.yaml'), 'utf8').replace(/TOPIC/g, topics.input).replace(/SINK/g, topics.sink);
  const file = join(mkdtempSync(join(tmpdir(), 'bench-alerting-')), 'rules.yaml');
  writeFileSync(file, rules);
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", goes to the service's node.
  const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'tideway.js'), 'alerting'], {
    env: { ...process.env, ALERTING_RULES: file, ALERTING_GROUP_ID: prefix, ALERTS_TOPIC: topics.alerts, METRICS_PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  running = child;
  return { child, url: `http://127.0.0.1:${port}` };
}

async function waitReady(url) {
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
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
  const { child, url } = startAlerting({ ALERTING_INTERNAL_PARTITIONS: '4' });
  await waitReady(url);
  const started = Date.now();
  // Done when every input record is committed and the repartition partitions' committed offsets
  // have stopped moving: their ends can be a run of transaction markers (one per producer that
  // wrote there), so "committed == end" does not say it. The time is that of the last move.
  let lastMove = Date.now();
  let lastSum = -1n;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode !== null) throw new Error(`tideway alerting exited with ${child.exitCode}`);
    const committed = await admin.committedOffsets(prefix, `${prefix}.repartition`).catch(() => []);
    const sum = committed.reduce((acc, o) => acc + BigInt(o.offset), 0n);
    if (sum !== lastSum) {
      lastSum = sum;
      lastMove = Date.now();
    }
    if ((await lagged(admin, prefix, topics.input)) === 0n && committed.length > 0 && Date.now() - lastMove >= 2000) break;
  }
  const finished = lastMove;
  const seconds = (finished - started) / 1000;
  const rss = peakRssMiB(child.pid);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const sum = (re) => [...metrics.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
  const alerts = sum(/^tideway_alerting_alerts_total\{[^}]*\} (\d+)/gm);
  const transactions = sum(/^tideway_alerting_transactions_total\{[^}]*\} (\d+)/gm);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cleanup(admin);
  await admin.disconnect();
  console.log(JSON.stringify({ mode: 'throughput', events: n, seconds, eventsPerSecond: Math.round(n / seconds), alerts, transactions, peakRssMiB: Math.round(rss) }));
}

async function latency(rate, seconds, warmupSeconds) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic: topics.input, partitions: 4 }]);
  const { child, url } = startAlerting({ ALERTING_INTERNAL_PARTITIONS: '4', ALERTING_FETCH_MAX_WAIT_MS: '20' });
  await waitReady(url);
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
  await new Promise((r) => setTimeout(r, 3000));
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
  while (Date.now() < end) {
    const batch = [];
    const now = Date.now();
    const warmup = now < warmupEnd;
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
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    next += tickMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await producer.disconnect();
  // Every threshold alert is waited for, however far behind the service is (up to two minutes
  // more); then one more second for the other rules' alerts of the last events.
  const waitUntil = Date.now() + 120_000;
  while (measured.threshold.length < expected && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 250));
  await new Promise((r) => setTimeout(r, 1000));
  const rss = peakRssMiB(child.pid);
  await consumer.disconnect();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cleanup(admin);
  await admin.disconnect();
  const stats = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
    return { n: v.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: v[v.length - 1] };
  };
  console.log(
    JSON.stringify({
      mode: 'latency',
      targetRate: rate,
      achievedRate: Math.round(produced / seconds),
      warmupSeconds,
      seconds,
      thresholdAlertsExpected: expected,
      allPredicateAlerts: stats(measured.all),
      // all = untilSent (fetch, evaluation, waiting for the commit) + sentToRead (commit, reader's fetch).
      untilSent: stats(measured.untilSent),
      sentToRead: stats(measured.sentToRead),
      thresholdAlerts: stats(measured.threshold),
      warmupAlerts: stats(measured.warmupAll),
      peakRssMiB: Math.round(rss),
    }),
  );
}

const [mode = 'throughput', a1, a2] = process.argv.slice(2);
(mode === 'latency' ? latency(Number(a1 || 5000), Number(a2 || 30), Number(process.argv[5] ?? 10)) : throughput(Number(a1 || 200000))).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    // Never leave the instance under test running.
    if (running && running.exitCode === null) running.kill('SIGKILL');
    process.exit(1);
  },
);
