#!/usr/bin/env node
/**
 * `tideway alerting` against a Kafka Streams application (bench/peers/kafka-streams-alerting/,
 * kafka-streams 4.4.0, exactly_once_v2) computing the same rules: bench/alerting/rules.yaml's seven
 * predicate rules and three windowed aggregations (tumbling 1 min per account, hopping 5 min / 1 min
 * per country, sessions with a 30 s gap per account), each window with 1 min of allowed lateness
 * (Kafka Streams' grace) so that neither side drops events when its input partitions are read at
 * different paces. Needs `npm run build` (Tideway runs from dist/) and Java 17 + Maven (the peer
 * is built from its pom.xml on first use and cached).
 *
 *   node bench/peers/alerting.js [events=200000] [rate=5000] [seconds=20] [runs=3]
 *
 * 1. Same results. `events` transactions are pre-loaded once (bench/alerting/workload.js: 4
 *    partitions, event time 2 ms apart) and every throughput run, of either side, reads that same
 *    topic with a group of its own and writes topics of its own. After each run the alerts and
 *    window results are read back (read_committed) and compared with the first run's: the same
 *    predicate alerts (rule, key, source partition and offset, event time, alert id), the same
 *    window results (aggregation, key, window start and end; counts equal, sums, maxima and
 *    averages within 1e-9), none twice, none late-dropped on either side. Windows that close
 *    within 30 s of event time of the backlog's end are left out (whether they are out yet
 *    depends on each partition's own watermark, on neither side's correctness). The check is
 *    printed; any difference fails the bench.
 * 2. Throughput: the clock and the process's CPU start when it is ready (Tideway's /readyz, Kafka
 *    Streams' state RUNNING) and stop at the last move of its group's committed offsets once they
 *    cover the input and the repartition topics' offsets have stood still for 2 s (workload.js).
 *    events/s = events / that interval; CPU µs per event = user + system CPU of the whole process
 *    (every thread of the Node process; the whole JVM) over it / events; peak RSS = VmHWM.
 * 3. Latency at `rate` events/s: a fresh input topic per run, 5 s of warm-up then `seconds`
 *    measured; every predicate alert carries its event's send time and is read (read_committed) by
 *    the bench: p50/p99 of read time − send time over all predicate alerts (~10 % of events), the
 *    process's CPU per event, peak RSS. Both sides fetch with a 20 ms max wait.
 *
 * Runs alternate (bench/peers/kit.js), `runs` of each side per figure. Everything is named
 * bench-peeralert-<random> and deleted at the end.
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { mkdtempSync, readFileSync } = require('node:fs');
const { loadavg, tmpdir } = require('node:os');
const path = require('node:path');
const kit = require('../kit');
const peers = require('./kit');
const workload = require('../alerting/workload');

const [events = 200000, rate = 5000, seconds = 20, runs = 3] = process.argv.slice(2).map(Number);
const WARMUP_SECONDS = 5;
// One input partition: the events reach the windows in event-time order on both sides, so the
// rules run exactly as in rules.yaml (no allowed lateness) and neither side drops an event as late.
const PARTITIONS = 1;
const LATENESS_MS = 0;
const SESSION_GAP_MS = 30_000;
/** Windows closing this close to the last event time are not compared. */
const TAIL_MS = 30_000;
const AGGREGATIONS = { 'spend-1m': 'tumbling', 'country-5m': 'hopping', sessions: 'session' };

const prefix = `bench-peeralert-${randomBytes(3).toString('hex')}`;
const kafka = kit.benchKafka();
const admin = kafka.admin();
let classpath;
/** The processes under test that are running, stopped at the end (bench/kit.js kills them on any other way out). */
const running = new Set();

// ---- the two sides ---------------------------------------------------------------------------

/** Starts one side on `input`, writing `<name>.alerts` and `<name>.aggregates`; resolves when ready. */
async function start(side, name, input, { latency = false } = {}) {
  const out = { alerts: `${name}.alerts`, sink: `${name}.aggregates` };
  if (side === 'tideway') {
    const proc = await kit.startService('alerting', {
      ALERTING_RULES: workload.rulesFile({ input, sink: out.sink }),
      ALERTING_GROUP_ID: name,
      ALERTS_TOPIC: out.alerts,
      ALERTING_INTERNAL_PARTITIONS: '4',
      ...(latency ? { ALERTING_FETCH_MAX_WAIT_MS: '20' } : {}),
    });
    running.add(proc);
    await proc.ready();
    let late;
    return {
      ...out,
      pid: proc.pid,
      alive: () => !proc.exited(),
      internal: [`${name}.repartition`],
      lateEvents: async () => late,
      async stop() {
        const m = await proc.metrics();
        late = [...m.matchAll(/^tideway_alerting_late_events_total\{[^}]*\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
        await proc.stop();
        running.delete(proc);
      },
    };
  }
  // As tideway alerting does at start-up: the alerts and sink topics exist (one partition each)
  // before the first result, so the bench's reader finds them.
  await admin.ensureTopics([
    { topic: out.alerts, partitions: 1 },
    { topic: out.sink, partitions: 1 },
  ]);
  const proc = peers.startJava({
    name: 'kafka-streams-alerting',
    classpath,
    main: 'AlertingApp',
    heapMiB: 1024,
    args: [
      `bootstrap=${process.env.KAFKA_BROKERS || '127.0.0.1:9092'}`,
      `application.id=${name}`,
      `input=${input}`,
      `alerts=${out.alerts}`,
      `sink=${out.sink}`,
      `state.dir=${mkdtempSync(path.join(tmpdir(), 'peeralert-state-'))}`,
      `allowed.lateness.ms=${LATENESS_MS}`,
      ...(latency ? ['fetch.max.wait.ms=20'] : []),
    ],
  });
  running.add(proc);
  const log = () => readFileSync(proc.logFile, 'utf8');
  for (const until = Date.now() + 120_000; !/^STATE RUNNING$/m.test(log()); await kit.sleep(100)) {
    if (proc.exited() || /^STATE (ERROR|PENDING_ERROR)$/m.test(log())) throw new Error(`Kafka Streams failed to start:\n${proc.output()}`);
    if (Date.now() > until) throw new Error(`Kafka Streams not running after 120 s:\n${proc.output()}`);
  }
  let dropped;
  return {
    ...out,
    pid: proc.pid,
    alive: () => !proc.exited() && !/^STATE (ERROR|PENDING_ERROR)$/m.test(log()),
    internal: Object.keys(AGGREGATIONS).map((a) => `${name}-${a}-repartition`),
    lateEvents: async () => dropped,
    async stop() {
      await proc.stop();
      running.delete(proc);
      const m = /^STATS (.*)$/m.exec(log());
      if (!m) throw new Error(`Kafka Streams did not report its statistics on shutdown:\n${proc.output()}`);
      dropped = JSON.parse(m[1]).droppedRecords;
    },
  };
}

// ---- same results ----------------------------------------------------------------------------

/** The outputs of a run, by identity: predicate alerts and the window results that are certainly closed. */
async function outputsOf(run, lastEventTime) {
  const alerts = new Map();
  const windows = new Map();
  const counts = {};
  const dup = [];
  const cutoff = lastEventTime - TAIL_MS;
  let tail = 0;
  for (const { value: a } of await workload.readAll(kafka, run.alerts)) {
    const s = a.sources[0];
    const id = `${a.rule}|${a.key}|${s.topic}:${s.partition}:${s.offset}|${a.eventTime}|${a.id}`;
    if (alerts.has(id)) dup.push(id);
    alerts.set(id, a);
    counts[a.rule] = (counts[a.rule] || 0) + 1;
  }
  for (const { value: w } of await workload.readAll(kafka, run.sink)) {
    const start = Date.parse(w.window.start);
    const end = Date.parse(w.window.end);
    const closes = end + LATENESS_MS + (w.window.type === 'session' ? SESSION_GAP_MS : 0);
    if (closes > cutoff) {
      tail++;
      continue;
    }
    const id = `${w.aggregation}|${w.key}|${w.window.type}|${start}|${end}`;
    if (windows.has(id)) dup.push(id);
    windows.set(id, w.values);
    counts[w.aggregation] = (counts[w.aggregation] || 0) + 1;
  }
  return { alerts, windows, counts, dup, tail, late: await run.lateEvents() };
}

const close = (a, b) => a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

/** Differences between two runs' outputs (empty when they are the same), with a few examples. */
function differences(ref, got) {
  const problems = [];
  const missing = (a, b) => [...a.keys()].filter((k) => !b.has(k));
  for (const [what, a, b] of [
    ['alerts', ref.alerts, got.alerts],
    ['window results', ref.windows, got.windows],
  ]) {
    const gone = missing(a, b);
    const extra = missing(b, a);
    if (gone.length) problems.push(`${gone.length} ${what} missing, e.g. ${gone.slice(0, 3).join(', ')}`);
    if (extra.length) problems.push(`${extra.length} ${what} not in the reference, e.g. ${extra.slice(0, 3).join(', ')}`);
  }
  const differ = [];
  for (const [k, v] of ref.windows) {
    const w = got.windows.get(k);
    if (w && !Object.keys(v).every((f) => close(v[f], w[f]))) differ.push(`${k}: ${JSON.stringify(v)} vs ${JSON.stringify(w)}`);
  }
  if (differ.length) problems.push(`${differ.length} window results with other values, e.g. ${differ.slice(0, 3).join('; ')}`);
  return problems;
}

function checkOwn(side, o) {
  const problems = [];
  if (o.dup.length) problems.push(`${side}: ${o.dup.length} results written twice, e.g. ${o.dup.slice(0, 3).join(', ')}`);
  if (o.late !== 0) problems.push(`${side}: ${o.late} events dropped as late`);
  for (const a of Object.keys(AGGREGATIONS)) if (!o.counts[a]) problems.push(`${side}: no closed ${a} window to compare (use more events)`);
  return problems;
}

function printCheck(ref, refName, got, gotName) {
  const ids = [...new Set([...Object.keys(ref.counts), ...Object.keys(got.counts)])].sort();
  console.log(`\n## alerting: same results (${refName} vs ${gotName})`);
  console.log(`| rule or aggregation | ${refName} | ${gotName} |`);
  console.log('| --- | --- | --- |');
  for (const id of ids) console.log(`| ${id} | ${ref.counts[id] ?? 0} | ${got.counts[id] ?? 0} |`);
  console.log(
    `alerts ${ref.alerts.size} / ${got.alerts.size}; window results compared ${ref.windows.size} / ${got.windows.size} (left out, closing in the last ${TAIL_MS / 1000} s: ${ref.tail} / ${got.tail}); late-dropped ${ref.late} / ${got.late}`,
  );
}

// ---- runs ------------------------------------------------------------------------------------

async function main() {
  classpath = peers.javaClasspath('kafka-streams-alerting', path.join(__dirname, 'kafka-streams-alerting'), ['AlertingApp.java']);
  await admin.connect();
  const input = `${prefix}.transactions`;
  try {
    console.log(
      `# pre-loading ${events} events on ${input} (load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')})`,
    );
    const lastEventTime = await workload.preload(kafka, admin, input, events, { partitions: PARTITIONS });

    let reference;
    if (events > 0) {
      const throughputRun = (side) => async (round) => {
        const name = `${prefix}-t${round}-${side === 'tideway' ? 'tw' : 'ks'}`;
        const run = await start(side, name, input);
        const measured = kit.measure(run.pid);
        const last = await workload.backlogDone({ admin, group: name, input, internal: run.internal, run: measured, alive: run.alive });
        const r = measured.end(events, last);
        const rss = kit.peakRssMiB(run.pid);
        await run.stop();
        const outputs = await outputsOf(run, lastEventTime);
        const problems = checkOwn(side, outputs);
        if (!reference) reference = { side, round, outputs };
        else {
          printCheck(reference.outputs, `${reference.side} run ${reference.round + 1}`, outputs, `${side} run ${round + 1}`);
          problems.push(...differences(reference.outputs, outputs));
        }
        if (problems.length) throw new Error(`alerting: the results differ or are incomplete:\n  ${problems.join('\n  ')}`);
        if (reference.side !== side || reference.round !== round) console.log('same results: yes');
        await workload.deleteTopics(admin, name);
        return { eventsPerSecond: Math.round(r.rate), cpuMicrosPerEvent: r.cpuMicrosPerRecord, peakRssMiB: Math.round(rss), seconds: +r.seconds.toFixed(2) };
      };
      const thr = await peers.alternate(runs, { tideway: throughputRun('tideway'), 'kafka-streams': throughputRun('kafka-streams') });
      peers.compare('alerting', `throughput, ${events} events backlog`, thr, {
        peer: 'kafka-streams',
        lowerIsBetter: ['cpuMicrosPerEvent', 'peakRssMiB', 'seconds'],
      });
    }
    if (!(seconds > 0)) return;

    const latencyRun = (side) => async (round) => {
      const name = `${prefix}-l${round}-${side === 'tideway' ? 'tw' : 'ks'}`;
      const topic = `${name}.transactions`;
      await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
      const run = await start(side, name, topic, { latency: true });
      const r = await workload.atFixedRate({
        kafka,
        input: topic,
        alerts: run.alerts,
        group: `${name}.reader`,
        rate,
        seconds,
        warmupSeconds: WARMUP_SECONDS,
        pid: run.pid,
      });
      const rss = kit.peakRssMiB(run.pid);
      if (!run.alive()) throw new Error(`${side} exited during the latency run`);
      await run.stop();
      await workload.deleteTopics(admin, name);
      if (r.measured.threshold.length < r.expected)
        throw new Error(`${side}: ${r.expected - r.measured.threshold.length} of ${r.expected} threshold alerts never arrived`);
      const all = kit.quantiles(r.measured.all);
      return {
        achievedRate: r.achievedRate,
        p50Ms: all.p50Ms,
        p99Ms: all.p99Ms,
        maxMs: all.maxMs,
        alerts: all.n,
        cpuMicrosPerEvent: r.cpu.cpuMicrosPerRecord,
        peakRssMiB: Math.round(rss),
      };
    };
    const lat = await peers.alternate(runs, { tideway: latencyRun('tideway'), 'kafka-streams': latencyRun('kafka-streams') });
    peers.compare('alerting', `latency at ${rate} events/s for ${seconds} s`, lat, {
      peer: 'kafka-streams',
      lowerIsBetter: ['p50Ms', 'p99Ms', 'maxMs', 'cpuMicrosPerEvent', 'peakRssMiB'],
    });
  } finally {
    for (const proc of running) await proc.stop(5000);
    await workload.deleteTopics(admin, prefix);
    await admin.disconnect();
  }
}

kit.run(main);
