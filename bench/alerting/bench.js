#!/usr/bin/env node
/**
 * Benchmark of `tideway alerting` against the local Kafka (`npm run stack:up`). Needs
 * `npm run build` first: it runs the service from dist/.
 *
 *   npm run build && node bench/alerting/bench.js throughput [events=200000] [partitions=4]
 *     e.g. node bench/alerting/bench.js throughput 10000   (a short check)
 *     Pre-loads `events` transactions on `partitions` input partitions (1 as bench/peers/alerting.js), starts one instance with bench/alerting/rules.yaml
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
const kit = require('../kit');
const workload = require('./workload');

const prefix = `bench-alerting-${randomBytes(3).toString('hex')}`;
const topics = { input: `${prefix}.transactions`, sink: `${prefix}.aggregates`, alerts: `${prefix}.alerts` };
const kafka = kit.benchKafka();

function startAlerting(env) {
  const rules = workload.rulesFile({ input: topics.input, sink: topics.sink });
  return kit.startService('alerting', { ALERTING_RULES: rules, ALERTING_GROUP_ID: prefix, ALERTS_TOPIC: topics.alerts, ...env });
}

async function throughput(n, partitions) {
  const admin = kafka.admin();
  await admin.connect();
  // Event time runs forward 2 ms per event, so windows close as the stream goes.
  await workload.preload(kafka, admin, topics.input, n, { partitions });
  const alerting = await startAlerting({ ALERTING_INTERNAL_PARTITIONS: '4' });
  await alerting.ready();
  const run = kit.measure(alerting.pid);
  const lastMove = await workload.backlogDone({
    admin,
    group: prefix,
    input: topics.input,
    internal: [`${prefix}.repartition`],
    run,
    alive: () => !alerting.exited(),
  });
  const r = run.end(n, lastMove);
  const rss = kit.peakRssMiB(alerting.pid);
  const metrics = await alerting.metrics();
  const sum = (re) => [...metrics.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
  const alerts = sum(/^tideway_alerting_alerts_total\{[^}]*\} (\d+)/gm);
  const transactions = sum(/^tideway_alerting_transactions_total\{[^}]*\} (\d+)/gm);
  await alerting.stop();
  await workload.deleteTopics(admin, prefix);
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
  const { measured, expected, achievedRate, cpu } = await workload.atFixedRate({
    kafka,
    input: topics.input,
    alerts: topics.alerts,
    group: `${prefix}.reader`,
    rate,
    seconds,
    warmupSeconds,
    pid: alerting.pid,
  });
  const rss = kit.peakRssMiB(alerting.pid);
  await alerting.stop();
  await workload.deleteTopics(admin, prefix);
  await admin.disconnect();
  const stats = kit.quantiles;
  const all = stats(measured.all);
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
kit.run(() =>
  mode === 'latency' ? latency(Number(a1 || 5000), Number(a2 || 30), Number(process.argv[5] ?? 10)) : throughput(Number(a1 || 200000), Number(a2 || 4)),
);
