/**
 * The alerting benchmarks' workload and measurements, one copy for bench/alerting/bench.js
 * (`tideway alerting` alone) and bench/peers/alerting.js (the same rules in Kafka Streams):
 *
 * - the events: card transactions `{txn_id, account_id, amount, country, account_country, channel,
 *   ts}` from a seeded generator, keyed by account_id (5,000 accounts, 10 countries, ~10 % abroad);
 * - the rules: bench/alerting/rules.yaml (7 predicate rules, 3 windowed aggregations), with the
 *   run's topic names and optionally an `allowedLateness` on every window;
 * - a backlog: `n` events whose event time starts at T0 (a weekday's midday) and runs forward by
 *   2 ms per event, pre-loaded before the service starts (on 4 partitions unless told);
 * - when a backlog is done: the consumer group's committed offsets cover the input's end offsets and
 *   its offsets on the internal (repartition) topics have stopped moving for 2 s; the clock and CPU
 *   stop at the last move;
 * - a fixed rate: events with `ts` and `sent_at` = the wall clock when sent, in 20 ms ticks; every
 *   predicate alert carries its event, so the time from send to the alert being readable
 *   (read_committed) is measured on the reader's clock.
 */
'use strict';
const { readFileSync, writeFileSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const kit = require('../kit');

const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'PT', 'NL', 'BE', 'US', 'GB', 'KP'];
// Midday on a weekday: night-hours and weekend rules fire on the latency run's real clock only.
const T0 = Date.parse('2026-11-24T12:00:00Z');

/** A generator of transactions from `seed`: `txn(i, ts, extra)` gives event i at epoch ms `ts`. */
function transactions(seed = 1) {
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return function txn(i, ts, extra = {}) {
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
  };
}

/**
 * bench/alerting/rules.yaml for one run, written to a temporary file: its topics, and with
 * `allowedLateness` every window accepts events that much behind the watermark.
 */
function rulesFile({ input, sink, allowedLateness }) {
  let rules = readFileSync(join(__dirname, 'rules.yaml'), 'utf8').replace(/TOPIC/g, input).replace(/SINK/g, sink);
  if (allowedLateness) rules = rules.replace(/window: \{ ([^}]*) \}/g, `window: { $1, allowedLateness: ${allowedLateness} }`);
  const file = join(mkdtempSync(join(tmpdir(), 'bench-alerting-')), 'rules.yaml');
  writeFileSync(file, rules);
  return file;
}

async function produceAll(kafka, messages) {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2000) await producer.send(messages.slice(i, i + 2000));
  await producer.disconnect();
}

/** Pre-loads `n` events on `topic` (`partitions` of them), event time T0 + i·stepMs. Returns the last event time. */
async function preload(kafka, admin, topic, n, { partitions = 4, stepMs = 2 } = {}) {
  await admin.ensureTopics([{ topic, partitions }]);
  const txn = transactions();
  const messages = [];
  for (let i = 0; i < n; i++) {
    const t = txn(i, T0 + i * stepMs);
    messages.push({ topic, key: t.account_id, value: JSON.stringify(t) });
  }
  await produceAll(kafka, messages);
  return T0 + (n - 1) * stepMs;
}

/** Records of `topic` the group has not committed yet. */
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

/**
 * Waits until `group` has committed all of `input` and its committed offsets on `internal` topics
 * have not moved for 2 s: their ends can be a run of transaction markers (one per producer that
 * wrote there), so "committed == end" does not say it. Returns the `run` mark of the last move.
 * `alive()` false (the process under test exited) fails the wait.
 */
async function backlogDone({ admin, group, input, internal, run, alive }) {
  let lastMove = run.mark();
  let lastSum = -1n;
  for (;;) {
    await kit.sleep(100);
    if (!alive()) throw new Error(`the process under test exited before it read the backlog`);
    let sum = 0n;
    let seen = 0;
    for (const topic of internal) {
      const committed = await admin.committedOffsets(group, topic).catch(() => []);
      for (const o of committed) sum += BigInt(o.offset);
      seen += committed.filter((o) => o.offset !== '-1').length;
    }
    if (sum !== lastSum) {
      lastSum = sum;
      lastMove = run.mark();
    }
    if ((await lagged(admin, group, input)) === 0n && seen > 0 && Number(process.hrtime.bigint() - lastMove.at) / 1e6 >= 2000) return lastMove;
  }
}

/** Every record of `topic` as committed (read_committed), parsed: [{ partition, offset, timestamp, key, value }]. */
async function readAll(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.endOffsets(topic).catch(() => []);
  await admin.disconnect();
  const reader = kafka.partitionReader({ readCommitted: true });
  const out = [];
  try {
    for (const e of ends) {
      let offset = '0';
      while (BigInt(offset) < BigInt(e.offset)) {
        const r = await reader.read({ topic, partition: e.partition, offset, maxRecords: 5000, maxWaitMs: 100 });
        for (const m of r.messages)
          out.push({ partition: m.partition, offset: m.offset, timestamp: m.timestamp, key: m.key && m.key.toString(), value: JSON.parse(m.value.toString()) });
        if (r.messages.length === 0 && BigInt(r.nextOffset) >= BigInt(r.highWatermark)) break;
        offset = r.nextOffset;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/**
 * Produces at `rate` events/s to `input` for `warmupSeconds` (events marked `warmup`) and then
 * `seconds`, reading `alerts` (read_committed) from before the first event. Returns the samples
 * in ms of every predicate alert (all, and `amount-over-threshold` alone, ~0.1 % of events;
 * `untilSent`/`sentToRead` split at the alert record's timestamp; warm-up alerts apart), the
 * events produced after the warm-up, the rate achieved, and the CPU of `pid` from the first
 * measured event until every threshold alert was read (up to two minutes more).
 */
async function atFixedRate({ kafka, input, alerts, group, rate, seconds, warmupSeconds, pid }) {
  const txn = transactions();
  const measured = { all: [], threshold: [], warmupAll: [], untilSent: [], sentToRead: [] };
  const consumer = kafka.consumer({ groupId: group, fromBeginning: true, readCommitted: true, maxWaitTimeMs: 20 });
  await consumer.connect();
  await consumer.subscribe([alerts]);
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
    // The process's CPU is measured from the first event after the warm-up.
    if (!warmup && run === undefined) run = kit.measure(pid);
    for (let k = 0; k < perTick; k++, i++) {
      const t = txn(i, now, warmup ? { sent_at: now, warmup: true } : { sent_at: now });
      if (!warmup && t.amount > 9990) expected++;
      if (!warmup) produced++;
      batch.push({ topic: input, key: t.account_id, value: JSON.stringify(t) });
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
  const cpu = run.end(produced);
  await kit.sleep(1000);
  await consumer.disconnect();
  return { measured, expected, produced, achievedRate: Math.round(produced / seconds), cpu };
}

/** Deletes every topic whose name starts with `prefix`. */
async function deleteTopics(admin, prefix) {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  await admin.deleteTopics(mine).catch(() => undefined);
}

module.exports = { COUNTRIES, T0, transactions, rulesFile, preload, lagged, backlogDone, readAll, atFixedRate, deleteTopics };
