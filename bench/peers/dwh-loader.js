#!/usr/bin/env node
/**
 * `tideway dwh-loader` against the Debezium JDBC sink connector (io.debezium:debezium-connector-jdbc
 * 3.6.0.Final in Kafka Connect 4.3 standalone, bench/peers/debezium-jdbc/pom.xml), on the same broker
 * and the same PostgreSQL warehouse, runs alternated. Needs the local stack and `npm run build`.
 *
 *   node bench/peers/dwh-loader.js [changes=200000] [rate=5000] [seconds=20] [runs=3]
 *     e.g. node bench/peers/dwh-loader.js 20000 5000 5 3   (a short check)
 *     changes=0 skips the throughput figure, seconds=0 the lag figure.
 *
 * Workload (bench/dwh-loader/workload.js): one seeded stream of `changes` row changes to a
 * `policies` table — inserts, updates and one delete in ten updates over 50,000 keys — on 3
 * partitions (a key's changes on one partition), written before any clock starts into two topics:
 * Tideway's envelope with the `tideway.columns` header for dwh-loader, and the same changes as
 * Debezium change events with JSON schemas (key and value, as Debezium's PostgreSQL connector writes
 * them through JsonConverter) for the JDBC sink. The stream ends with a marker row per partition:
 * applied in partition order, all three visible means every change is applied.
 *
 * Throughput: each run loads its topic into a schema of its own. dwh-loader: started, clock from
 * /readyz until the three end markers are visible in its table. JDBC sink: the Connect worker is
 * started with no connector and the clock starts when the connector is created through the REST API
 * (the JVM's start is not timed; the connector's start and its group join are, as the loader's
 * are), until the three end markers are visible in its table (pre-created with the column types
 * dwh-loader gives it). Both tables must then hold the workload's final state — row count and MD5 of
 * every row equal to the expected state — or the bench fails. Reports changes/s and, over the same
 * interval, CPU µs per change of the tool's process (user + system of the Node process or of the
 * Connect JVM, every thread), the warehouse's CPU µs per change (warehouseCpuMicrosPerChange: the
 * local PostgreSQL's postmaster and every backend, bench/kit.js treeCpuSeconds; nothing else writes
 * to it during the interval) and the tool's peak RSS (VmHWM).
 *
 * Lag at `rate` changes/s for `seconds`: each side on fresh topics and tables, started and warmed up
 * (one marker round visible), then every 20 ms a batch of rate/50 records — the workload's changes
 * and, last on each partition, that partition's marker set to the batch's number. A batch is visible
 * when all three markers show its number or a later one (the bench polls them every 20 ms, one
 * primary-key SELECT); its lag is Kafka's acknowledgement of the batch → that poll. p50 / p99 / max,
 * CPU µs per change of the tool from the first batch until the last is visible, peak RSS; the table
 * must hold the final state afterwards too.
 *
 * Both sides: 3 partitions applied in parallel (dwh-loader DWH_CONCURRENCY=3, its default; the sink
 * tasks.max=3) and batches of up to 5,000 records (DWH_BATCH_MAX_ROWS=5000, its default; the sink
 * batch.size=5000 with consumer.max.poll.records=5000). Everything is named bench-peerdwh-<random> /
 * bench_peerdwh_<random> and removed at the end.
 */
/* global fetch */
'use strict';
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { Client } = require('pg');
const kit = require('../kit');
const peers = require('./kit');
const workload = require('../dwh-loader/workload');

const id = randomBytes(3).toString('hex');
const prefix = `bench-peerdwh-${id}`;
const PARTITIONS = 3;
const WAREHOUSE_URL = process.env.DWH_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/warehouse';
const kafka = kit.benchKafka();
const topics = [];
const schemas = [];

/** The warehouse as a JDBC URL, user and password. */
function jdbc() {
  const u = new URL(WAREHOUSE_URL);
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`,
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password || process.env.PGPASSWORD || ''),
  };
}

function sinkConfig(name, topic, schema) {
  const { url, user, password } = jdbc();
  return {
    name,
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': PARTITIONS,
    topics: topic,
    'connection.url': url,
    'connection.username': user,
    'connection.password': password,
    'insert.mode': 'upsert',
    'delete.enabled': true,
    'primary.key.mode': 'record_key',
    'primary.key.fields': 'policy_id',
    'schema.evolution': 'none',
    'collection.name.format': `${schema}.${workload.TABLE}`,
    'batch.size': 5000,
    'use.reduction.buffer': true,
  };
}

/** A fresh topic with 3 partitions. */
async function newTopic(admin, name) {
  const topic = `${prefix}-${name}`;
  await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
  topics.push(topic);
  return topic;
}

/** A fresh warehouse schema name (dwh-loader creates its own; the sink's is created with its table). */
function newSchema(name) {
  const schema = `bench_peerdwh_${id}_${name}`;
  schemas.push(schema);
  return schema;
}

async function createSinkTable(db, schema) {
  await db.query(`CREATE SCHEMA "${schema}"`);
  await db.query(`CREATE TABLE "${schema}".${workload.TABLE} (${workload.TABLE_DDL})`);
}

/** The marker rows of a table: holder per partition (undefined while the table or a row is missing). */
async function markers(db, schema, w) {
  const r = await db
    .query(`SELECT policy_id, holder FROM "${schema}".${workload.TABLE} WHERE policy_id = ANY($1::bigint[])`, [w.markerKeys])
    .catch(() => ({ rows: [] }));
  const byKey = new Map(r.rows.map((row) => [Number(row.policy_id), row.holder]));
  return w.markerKeys.map((k) => byKey.get(k));
}

/** Polls the markers every `everyMs` until all equal `label`; throws after `deadlineMs` or when `alive()` fails. */
async function untilMarkers(db, schema, w, label, alive, { everyMs = 50, deadlineMs = 600_000 } = {}) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if ((await markers(db, schema, w)).every((h) => h === label)) return;
    alive();
    if (Date.now() > until) throw new Error(`markers "${label}" not visible in ${schema} after ${deadlineMs / 1000} s`);
    await kit.sleep(everyMs);
  }
}

/**
 * Reads a topic from the start and counts, per partition, records whose change (source LSN) is
 * older than an earlier record of the same key: the input a sink must apply in order.
 */
async function topicOrder(topic, expectedRecords) {
  const consumer = kafka.consumer({ groupId: `${topic}-order-check`, fromBeginning: true });
  await consumer.connect();
  await consumer.subscribe([topic]);
  const lastLsn = new Map();
  let records = 0;
  let backwards = 0;
  const examples = [];
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void consumer.run(async (batch) => {
      for (const m of batch.messages) {
        records += 1;
        const v = JSON.parse(m.value.toString());
        const lsn = (v.payload ?? v).source.lsn;
        const key = `${batch.partition}/${m.key.toString()}`;
        if (lastLsn.has(key) && lastLsn.get(key) > lsn) {
          backwards += 1;
          if (examples.length < 3) examples.push(`${key.slice(0, 60)} offset ${m.offset} lsn ${lsn} after ${lastLsn.get(key)}`);
        }
        lastLsn.set(key, Math.max(lsn, lastLsn.get(key) ?? 0));
      }
      if (records >= expectedRecords) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await consumer.disconnect();
  return `topic ${topic}: ${records} records read, ${backwards} out of key order${examples.length ? ` (${examples.join('; ')})` : ''}`;
}

/** The two contenders: start, run until a table holds the markers, stop. */
function contenders(classpath) {
  return {
    /** dwh-loader on `topic` into `schema`; `started` once ready (the clock's start). */
    async tideway(topic, schema) {
      const loader = await kit.startService('dwh-loader', {
        DWH_DATABASE_URL: WAREHOUSE_URL,
        DWH_TOPICS: topic,
        DWH_SCHEMA: schema,
        DWH_GROUP_ID: `${schema}-group`,
      });
      await loader.ready();
      return {
        pid: loader.pid,
        alive: () => {
          if (loader.exited()) throw new Error(`tideway dwh-loader exited:\n${loader.output()}`);
        },
        stop: () => loader.stop(),
      };
    },
    /** The JDBC sink on `topic` into `schema` (table pre-created); `begin()` creates the connector. */
    async debezium(topic, schema, db, name) {
      await createSinkTable(db, schema);
      const connect = await peers.startConnectStandalone({ name: `peerdwh-${name}`, classpath, worker: { 'consumer.max.poll.records': 5000 } });
      await connect.restReady();
      return {
        pid: connect.pid,
        begin: () => connect.addConnector(sinkConfig(`${prefix}-${name}`, topic, schema)),
        group: `connect-${prefix}-${name}`,
        running: () => connect.running(),
        /** The connector's status and the worker's log, for an error message. */
        why: async () => {
          const status = await fetch(`${connect.restUrl}/connectors/${prefix}-${name}/status`).then((r) => r.text(), String);
          return `connector status: ${status}\n${connect.output()}`;
        },
        alive: () => {
          if (connect.exited()) throw new Error(`Kafka Connect exited:\n${connect.output()}`);
        },
        stop: () => connect.stop(),
      };
    },
  };
}

async function throughputRun(side, start, { topic, schema, db, w, expected, total, name }) {
  const tool = await start(topic, schema, db, name);
  try {
    const m = kit.measure(tool.pid, { postgres: true });
    if (tool.begin) await tool.begin();
    await untilMarkers(db, schema, w, 'end', tool.alive);
    const r = m.end(total);
    const rss = kit.peakRssMiB(tool.pid);
    await tool.stop();
    await workload.verifyTable(db, `"${schema}".${workload.TABLE}`, expected, side).catch(async (err) => {
      err.message += `\n${await topicOrder(topic, total)}`;
      throw err;
    });
    return {
      changesPerSecond: Math.round(r.rate),
      seconds: +r.seconds.toFixed(2),
      cpuMicrosPerChange: r.cpuMicrosPerRecord,
      warehouseCpuMicrosPerChange: r.postgresCpuMicrosPerRecord,
      peakRssMiB: Math.round(rss),
    };
  } finally {
    await tool.stop();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

async function latencyRun(side, start, { admin, producer, db, rate, seconds, name }) {
  const topic = await newTopic(admin, `${name}.changes`);
  const schema = newSchema(name);
  const w = workload.createWorkload({ partitions: PARTITIONS });
  const encode = side === 'tideway' ? workload.tidewayRecord : workload.debeziumRecord;
  const markerRound = (label) => w.markerKeys.map((_, p) => encode(topic, w.marker(p, label)));
  const tool = await start(topic, schema, db, name);
  try {
    if (tool.begin) {
      await tool.begin();
      await tool.running();
    }
    // Warm-up: the group joined and one round of markers applied.
    await producer.send(markerRound('warm'));
    await untilMarkers(db, schema, w, 'warm', tool.alive, { everyMs: 20, deadlineMs: 120_000 });

    const ackedAt = []; // per batch number
    const latencies = [];
    let resolved = 0; // batches resolved so far (they resolve in order)
    let batches = Infinity;
    let producedAt = Infinity; // when the last batch was acknowledged
    const poller = (async () => {
      while (resolved < batches && Date.now() < producedAt + 60_000) {
        const seen = (await markers(db, schema, w)).map((h) => (h && h.startsWith('t') ? Number(h.slice(1)) : -1));
        const visible = Math.min(...seen);
        const now = Date.now();
        while (resolved <= visible && ackedAt[resolved] !== undefined) {
          latencies.push(now - ackedAt[resolved]);
          resolved += 1;
        }
        tool.alive();
        await kit.sleep(20);
      }
    })();
    const m = kit.measure(tool.pid);
    const { produced, elapsed } = await workload.produceAtRate(producer, {
      rate,
      seconds,
      batch: (tick, size) => [...Array.from({ length: Math.max(0, size - PARTITIONS) }, () => encode(topic, w.next())), ...markerRound(`t${tick}`)],
      onAck: (tick, reports, at) => {
        ackedAt[tick] = at;
      },
    });
    batches = ackedAt.length;
    producedAt = Date.now();
    await poller;
    const cpu = m.end(produced);
    const rss = kit.peakRssMiB(tool.pid);
    if (resolved < batches) {
      const ends = await admin.endOffsets(topic);
      const committed = tool.group ? await admin.committedOffsets(tool.group, topic) : [];
      const offsets = `topic end offsets ${ends.map((o) => o.offset)}${tool.group ? `, ${tool.group} committed ${committed.map((o) => o.offset)}` : ''}`;
      const why = `${offsets}\n${tool.why ? await tool.why() : ''}`;
      throw new Error(
        `${side}: ${batches - resolved} of ${batches} batches not visible 60 s after the last was produced (markers ${await markers(db, schema, w)})\n${why}`,
      );
    }
    await tool.stop();
    await workload.verifyTable(db, `"${schema}".${workload.TABLE}`, w.expected(), side).catch(async (err) => {
      err.message += `\n${await topicOrder(topic, produced + PARTITIONS)}`;
      throw err;
    });
    const q = kit.quantiles(latencies);
    return {
      achievedRate: Math.round(produced / elapsed),
      batches,
      p50Ms: q.p50Ms,
      p99Ms: q.p99Ms,
      maxMs: q.maxMs,
      cpuMicrosPerChange: cpu.cpuMicrosPerRecord,
      peakRssMiB: Math.round(rss),
    };
  } finally {
    await tool.stop();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

async function main() {
  const [changes, rate, seconds, runs] = [200000, 5000, 20, 3].map((d, i) => Number(process.argv[2 + i] || d));
  const classpath = peers.javaClasspath('debezium-jdbc', path.join(__dirname, 'debezium-jdbc'));
  const admin = kafka.admin();
  const producer = kafka.producer();
  const db = new Client({ connectionString: WAREHOUSE_URL });
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
  const start = contenders(classpath);
  try {
    if (changes > 0) {
      // The same changes in both formats, written before any clock starts.
      const tTopic = await newTopic(admin, 'tideway.changes');
      const dTopic = await newTopic(admin, 'debezium.changes');
      const w = workload.createWorkload({ partitions: PARTITIONS });
      const tRecords = [];
      const dRecords = [];
      const add = (c) => {
        tRecords.push(workload.tidewayRecord(tTopic, c));
        dRecords.push(workload.debeziumRecord(dTopic, c));
      };
      for (let i = 0; i < changes; i++) add(w.next());
      for (let p = 0; p < PARTITIONS; p++) add(w.marker(p, 'end'));
      await workload.produceAll(producer, tRecords);
      await workload.produceAll(producer, dRecords);
      const total = tRecords.length;
      const expected = w.expected();
      console.log(`# ${total} changes (${changes} + ${PARTITIONS} markers) in each format; final state ${expected.rows} rows, md5 ${expected.md5}`);
      tRecords.length = 0;
      dRecords.length = 0;

      const common = { db, w, expected, total };
      const throughput = await peers.alternate(runs, {
        tideway: (round) => throughputRun('tideway', start.tideway, { ...common, topic: tTopic, schema: newSchema(`t${round}`), name: `t${round}` }),
        'debezium-jdbc': (round) =>
          throughputRun('debezium-jdbc', start.debezium, { ...common, topic: dTopic, schema: newSchema(`d${round}`), name: `d${round}` }),
      });
      peers.compare('dwh-loader', `upsert throughput, ${total} changes`, throughput, {
        peer: 'debezium-jdbc',
        lowerIsBetter: ['seconds', 'cpuMicrosPerChange', 'warehouseCpuMicrosPerChange', 'peakRssMiB'],
      });
    }

    if (seconds > 0) {
      const lat = { admin, producer, db, rate, seconds };
      const latency = await peers.alternate(runs, {
        tideway: (round) => latencyRun('tideway', start.tideway, { ...lat, name: `lt${round}` }),
        'debezium-jdbc': (round) => latencyRun('debezium-jdbc', start.debezium, { ...lat, name: `ld${round}` }),
      });
      peers.compare('dwh-loader', `lag at ${rate} changes/s for ${seconds} s`, latency, {
        peer: 'debezium-jdbc',
        lowerIsBetter: ['p50Ms', 'p99Ms', 'maxMs', 'cpuMicrosPerChange', 'peakRssMiB'],
      });
    }
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.disconnect(), db.end()]);
  }
}

kit.run(main);
