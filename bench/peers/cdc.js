#!/usr/bin/env node
/**
 * `tideway cdc` against the Debezium PostgreSQL connector (3.6.1.Final, pgoutput, in Kafka Connect
 * 4.3.2 standalone, bench/peers/debezium-postgres/pom.xml) on the local stack: the same table, the
 * same writer, the same broker, the same end condition. Needs `npm run build` first.
 *
 *   npm run build && node bench/peers/cdc.js [changes=200000] [rate=5000] [seconds=20] [runs=3]
 *   e.g. node bench/peers/cdc.js 20000 5000 5 1   (a short check)
 *
 * Each run of a contender gets a table, publication, slot and topic of its own (3 partitions,
 * message.timestamp.type=LogAppendTime, created by the bench before the tool starts), runs the three
 * figures below with one process, checks what reached Kafka, and drops everything again. Runs
 * alternate (bench/peers/kit.js `alternate`), at least `runs` of each.
 *
 * Workload: bench/cdc/workload.js, the one bench/cdc/bench.js writes (2 connections, 100-row
 * transactions of ~200-byte rows, half inserts then updates of the same rows).
 *
 * 1. Catch-up (cold): the publication and the slot are created, `changes` changes are written while
 *    the tool is not running (they wait in WAL), then the tool is started. The clock runs from its
 *    start (process spawn: JVM and Connect start-up, or Node's, included) until the end offsets of
 *    its topic add up to `changes`.
 * 2. Catch-up (warm): the same process, stopped with SIGSTOP while another `changes` changes are
 *    written, then resumed with SIGCONT; the clock runs from SIGCONT until the end offsets reach
 *    2 × `changes`.
 * 3. Latency: inserts paced to `rate` changes/s for `seconds` (10-row transactions every 10 ms), the
 *    same process. commit→Kafka per change: the record's Kafka timestamp (LogAppendTime: when the
 *    broker appended it) minus the envelope's `source.ts_ms` (PostgreSQL's commit time), read back
 *    from the topic after the run; p50/p99 of every change of the phase.
 * CPU per change: user + system CPU of the tool's process (for Debezium the whole Connect JVM, every
 * thread) over the figure's clock interval, divided by its changes. Peak RSS: the process's VmHWM,
 * after the cold catch-up and at the end of the run.
 *
 * Before a run counts, every record of its topic is read back: the topic must hold exactly one
 * record per change (op c / u and the row's id, each once) and nothing else; a lost, skipped or
 * duplicated change fails the bench.
 *
 * Debezium runs with its defaults except what the comparison needs: the JSON converter with schemas
 * (Connect's default; DEBEZIUM_JSON_SCHEMAS=false for schemaless JSON), plugin.name=pgoutput,
 * snapshot.mode=no_data, decimal.handling.mode=string, the bench's slot and publication
 * (publication.autocreate.mode=disabled), the bench's table only. Its poll.interval.ms (500 ms: how
 * long it waits for new events, both reading the replication stream and handing batches to Connect)
 * stays at its default unless DEBEZIUM_POLL_INTERVAL_MS is set.
 */
'use strict';
const path = require('node:path');
const kit = require('../kit');
const peers = require('./kit');
const workload = require('../cdc/workload');
const { parseChangeEvent } = require('@tideway/runtime');

const CHANGES = Math.max(200, Math.round(Number(process.argv[2] || 200_000) / 200) * 200);
const RATE = Number(process.argv[3] || 5_000);
const SECONDS = Number(process.argv[4] || 20);
const RUNS = Number(process.argv[5] || 3);
const SCHEMAS = process.env.DEBEZIUM_JSON_SCHEMAS !== 'false';
const TAG = `peercdc_${Math.random().toString(16).slice(2, 8)}`;
const WARM_BASE = 10_000_000;
const LATENCY_BASE = 20_000_000;
/** A tool that adds nothing to its topic for this long has failed. */
const STALL_MS = 180_000;
const { sleep } = kit;

// ---- Kafka: counting and reading back -------------------------------------------------------

const kafka = kit.benchKafka();
const admin = kafka.admin();

/** The end offset of each partition, indexed by partition. */
async function endOffsets(topic) {
  const end = [];
  for (const p of await admin.endOffsets(topic)) end[p.partition] = Number(p.offset);
  return end;
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** Resolves once the end offsets of `topic` add up to `expected`; fails when the tool exits or stalls. */
async function waitRecords(topic, expected, proc) {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = sum(await endOffsets(topic));
    if (n >= expected) return n;
    if (proc.exited()) throw new Error(`${proc.name} exited with ${n} of ${expected} records in ${topic}:\n${proc.output()}`);
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new Error(`${proc.name}: ${n} of ${expected} records in ${topic}, none new for ${STALL_MS / 1000} s:\n${proc.output()}`);
    }
    await sleep(25);
  }
}

/** Calls `each(message)` for every record of `topic` from `from[p]` to `to[p]` of each partition. */
async function readTopic(topic, from, to, each) {
  const reader = kafka.partitionReader({ readCommitted: false });
  try {
    for (let p = 0; p < to.length; p++) {
      let offset = from[p];
      while (offset < to[p]) {
        const r = await reader.read({ topic, partition: p, offset: String(offset), maxRecords: 10_000, maxWaitMs: 100 });
        if (Number(r.nextOffset) <= offset) throw new Error(`${topic}/${p}: no records at ${offset} (end ${to[p]})`);
        for (const m of r.messages) if (Number(m.offset) < to[p]) each(m);
        offset = Number(r.nextOffset);
      }
    }
  } finally {
    await reader.close();
  }
}

/**
 * Reads the whole topic back: exactly one record per expected change (`op:id`), nothing else.
 * Returns commit→append latencies (ms) of the records at or after `latencyFrom`.
 */
async function verify(topic, table, expected, latencyFrom) {
  const end = await endOffsets(topic);
  const total = sum(end);
  if (total !== expected.size) throw new Error(`${topic} holds ${total} records, ${expected.size} changes were written`);
  const seen = new Set();
  const latencies = [];
  await readTopic(
    topic,
    end.map(() => 0),
    end,
    (m) => {
      const e = parseChangeEvent(m.value);
      const k = `${e.op}:${e.after && e.after.id}`;
      if (e.source.table !== table) throw new Error(`${topic}: a record of table ${e.source.table}`);
      if (!expected.has(k)) throw new Error(`${topic}: an unexpected change ${k}`);
      if (seen.has(k)) throw new Error(`${topic}: change ${k} twice`);
      seen.add(k);
      if (Number(m.offset) >= latencyFrom[m.partition]) latencies.push(m.timestamp - e.source.ts_ms);
    },
  );
  if (seen.size !== expected.size) throw new Error(`${topic}: ${expected.size - seen.size} changes missing`);
  return latencies;
}

/** The `op:id` of every change `workload.writeVolume` makes of `changes` from id `base`. */
function volumeChanges(into, base, changes) {
  for (let i = 0; i < changes / 2; i++) into.add(`c:${base + i}`).add(`u:${base + i}`);
}

// ---- the contenders -------------------------------------------------------------------------

const dbUrl = new URL(workload.DB);
let debeziumClasspath;

const contenders = {
  tideway: {
    topic: (table) => `${table}.changes`,
    start: (s) =>
      kit.startService('cdc', {
        CDC_DATABASE_URL: workload.DB,
        CDC_TABLES: `public.${s.table}`,
        CDC_SLOT: s.slot,
        CDC_PUBLICATION: s.publication,
        CDC_SNAPSHOT: 'never',
        CDC_TOPIC_TEMPLATE: '{table}.changes',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      }),
  },
  debezium: {
    topic: (table) => `${table}.public.${table}`,
    start: (s) =>
      peers.startConnectStandalone({
        name: s.table,
        classpath: debeziumClasspath,
        worker: SCHEMAS ? {} : { 'key.converter.schemas.enable': false, 'value.converter.schemas.enable': false },
        connectors: [
          {
            name: s.table,
            'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
            'tasks.max': 1,
            'plugin.name': 'pgoutput',
            'database.hostname': dbUrl.hostname,
            'database.port': dbUrl.port || 5432,
            'database.user': decodeURIComponent(dbUrl.username) || 'postgres',
            'database.password': decodeURIComponent(dbUrl.password),
            'database.dbname': dbUrl.pathname.slice(1),
            'topic.prefix': s.table,
            'table.include.list': `public.${s.table}`,
            'slot.name': s.slot,
            'publication.name': s.publication,
            'publication.autocreate.mode': 'disabled',
            'snapshot.mode': 'no_data',
            'decimal.handling.mode': 'string',
            ...(process.env.DEBEZIUM_POLL_INTERVAL_MS ? { 'poll.interval.ms': process.env.DEBEZIUM_POLL_INTERVAL_MS } : {}),
          },
        ],
      }),
  },
};

/** One run of a contender: the three figures with one process, its topic checked, everything dropped. */
async function runOne(name, round, db) {
  const { meta, writers } = db;
  const table = `${TAG}_${name === 'tideway' ? 'tw' : 'dbz'}_r${round}`;
  const s = { table, slot: table, publication: table, topic: contenders[name].topic(table) };
  const say = (msg) => console.error(`# ${name} run ${round + 1}: ${msg}`);
  let proc;
  cleanUp = async () => {
    cleanUp = async () => {};
    if (proc) {
      proc.child.kill('SIGCONT');
      await proc.stop();
    }
    await workload.dropSlot(meta, s.slot);
    await meta.query(`DROP PUBLICATION IF EXISTS ${s.publication}`);
    await meta.query(`DROP TABLE IF EXISTS ${table}`);
    await meta.query('DELETE FROM public.tideway_cdc_state WHERE slot_name = $1', [s.slot]).catch(() => undefined);
    await admin.deleteTopics([s.topic]).catch(() => undefined);
  };
  try {
    // The source and the topic, as a user would have them before the tool first starts.
    await workload.createTable(meta, table);
    await meta.query(`CREATE PUBLICATION ${s.publication} FOR TABLE public.${table}`);
    await meta.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [s.slot]);
    await admin.ensureTopics([{ topic: s.topic, partitions: 3, configs: { 'message.timestamp.type': 'LogAppendTime' } }]);

    // 1. Cold catch-up.
    say(`writing ${CHANGES} changes, then starting the tool`);
    await workload.writeVolume(writers, meta, table, 0, CHANGES);
    proc = await contenders[name].start(s);
    let clock = kit.measure(proc.pid);
    await waitRecords(s.topic, CHANGES, proc);
    const cold = clock.end(CHANGES);
    const coldRss = kit.peakRssMiB(proc.pid);
    await sleep(1000);

    // 2. Warm catch-up: the same process, stopped while the next volume is written.
    say(`stopped (SIGSTOP), writing ${CHANGES} changes`);
    proc.child.kill('SIGSTOP');
    await workload.writeVolume(writers, meta, table, WARM_BASE, CHANGES);
    clock = kit.measure(proc.pid);
    proc.child.kill('SIGCONT');
    await waitRecords(s.topic, 2 * CHANGES, proc);
    const warm = clock.end(CHANGES);
    await sleep(1000);

    // 3. Latency at a fixed rate.
    say(`writing ${RATE} changes/s for ${SECONDS} s`);
    const latencyFrom = await endOffsets(s.topic);
    clock = kit.measure(proc.pid);
    const paced = await workload.writePaced(writers, table, { rate: RATE, seconds: SECONDS, firstId: LATENCY_BASE });
    await waitRecords(s.topic, 2 * CHANGES + paced.written, proc);
    const latencyRun = clock.end(paced.written);
    const rss = kit.peakRssMiB(proc.pid);

    await sleep(500); // nothing more may arrive
    say('reading the topic back');
    const expected = new Set();
    volumeChanges(expected, 0, CHANGES);
    volumeChanges(expected, WARM_BASE, CHANGES);
    for (let i = 0; i < paced.written; i++) expected.add(`c:${LATENCY_BASE + i}`);
    const latencies = await verify(s.topic, table, expected, latencyFrom);
    if (latencies.length !== paced.written) throw new Error(`${s.topic}: ${latencies.length} latency samples for ${paced.written} changes`);
    const q = kit.quantiles(latencies);
    return {
      catchUp: {
        changesPerSecond: Math.round(cold.rate),
        seconds: +cold.seconds.toFixed(2),
        cpuMicrosPerChange: cold.cpuMicrosPerRecord,
        peakRssMiB: Math.round(coldRss),
      },
      warm: { changesPerSecond: Math.round(warm.rate), seconds: +warm.seconds.toFixed(2), cpuMicrosPerChange: warm.cpuMicrosPerRecord },
      latency: {
        achievedRate: Math.round(paced.achieved),
        p50Ms: q.p50Ms,
        p99Ms: q.p99Ms,
        maxMs: q.maxMs,
        cpuMicrosPerChange: latencyRun.cpuMicrosPerRecord,
        peakRssMiB: Math.round(rss),
      },
    };
  } finally {
    await cleanUp();
  }
}

/** What the run under way must drop, also when the bench is interrupted (a forgotten slot keeps WAL forever). */
let cleanUp = async () => {};
kit.onInterrupt(() => {
  console.error("# dropping this run's slot, publication, table and topic");
  return cleanUp();
});

async function main() {
  debeziumClasspath = peers.javaClasspath('debezium-postgres', path.join(__dirname, 'debezium-postgres'));
  await admin.connect();
  const db = { meta: await workload.connect(), writers: [await workload.connect(), await workload.connect()] };
  try {
    console.log(
      `# ${CHANGES} changes per catch-up, ${RATE} changes/s for ${SECONDS} s, ${RUNS} runs each; Debezium JSON ${SCHEMAS ? 'with' : 'without'} schemas; load average ${require('node:os')
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const runs = await peers.alternate(RUNS, {
      tideway: (round) => runOne('tideway', round, db),
      debezium: (round) => runOne('debezium', round, db),
    });
    const figure = (key) => Object.fromEntries(Object.entries(runs).map(([n, rs]) => [n, rs.map((r) => r[key])]));
    const lower = ['seconds', 'cpuMicrosPerChange', 'peakRssMiB', 'p50Ms', 'p99Ms', 'maxMs'];
    peers.compare('cdc-peers', `catch-up of ${CHANGES} changes (cold start)`, figure('catchUp'), { peer: 'debezium', lowerIsBetter: lower });
    peers.compare('cdc-peers', `catch-up of ${CHANGES} changes (warm process)`, figure('warm'), { peer: 'debezium', lowerIsBetter: lower });
    peers.compare('cdc-peers', `commit→Kafka at ${RATE} changes/s`, figure('latency'), { peer: 'debezium', lowerIsBetter: lower });
  } finally {
    for (const c of [db.meta, ...db.writers]) await c.end();
    await admin.disconnect();
  }
}

kit.run(main);
