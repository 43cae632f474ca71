#!/usr/bin/env node
/**
 * Benchmark of `tideway dwh-loader` against the local Kafka and PostgreSQL (`npm run stack:up`).
 * Needs `npm run build` first: it runs the service from dist/.
 *
 *   npm run build && node bench/dwh-loader/bench.js throughput [changes=200000] [partitions=3] [mode=upsert]
 *     e.g. node bench/dwh-loader/bench.js throughput 20000 3 upsert   (a short check)
 *     Pre-fills a topic with `changes` change events (bench/dwh-loader/workload.js: a mixed
 *     insert/update/delete workload over 50,000 keys, with the tideway.columns header, as `tideway
 *     cdc` writes them), starts one loader and times it from ready until the warehouse-stored
 *     offsets cover every record; in upsert mode the table must then hold the workload's final
 *     state (row count and MD5 of the rows).
 *     Reports changes/s applied, the loader's CPU µs per change and its peak RSS.
 *   npm run build && node bench/dwh-loader/bench.js latency [rate=5000] [seconds=30] [partitions=3]
 *     e.g. node bench/dwh-loader/bench.js latency 5000 5 3   (a short check)
 *     Starts one loader, then produces at a fixed rate; polls the warehouse-stored offsets every
 *     20 ms and reports, per produced batch, the time from its acknowledgement by Kafka until
 *     the warehouse transaction that holds it is visible: p50 / p99 / max, the loader's CPU µs per
 *     change at that rate, and peak RSS.
 *
 * CPU per change (µs CPU/change, cpuMicrosPerRecord): user + system CPU of the `tideway dwh-loader`
 * process over the timed interval (throughput: ready until every offset is stored; latency: the first
 * record produced until the last one is visible) divided by the changes of that interval.
 * Each run prints its line and `RESULT {json}` (bench/kit.js).
 * Everything it creates is named bench-dwh-<random> / bench_dwh_<random> and removed at the end.
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const workload = require('./workload');
const kit = require('../kit');

const id = randomBytes(3).toString('hex');
const topic = `bench-dwh-${id}.changes`;
const schema = `bench_dwh_${id}`;
const WAREHOUSE_URL = process.env.DWH_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/warehouse';
const kafka = kit.benchKafka();

function startLoader(env = {}) {
  return kit.startService('dwh-loader', { DWH_DATABASE_URL: WAREHOUSE_URL, DWH_TOPICS: topic, DWH_SCHEMA: schema, DWH_GROUP_ID: `${schema}-group`, ...env });
}

async function storedOffsets(db) {
  const r = await db.query(`SELECT partition, next_offset FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [] }));
  const out = new Map();
  for (const row of r.rows) out.set(Number(row.partition), Number(row.next_offset));
  return out;
}

async function cleanup(admin, db) {
  await admin.deleteTopics([topic, `${topic}.dlq`].filter(() => true)).catch(() => undefined);
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
}

/** Polls the warehouse-stored offsets every 50 ms until `done(stored)`, at most `polls` times. */
async function untilStored(db, done, polls = Infinity) {
  for (let i = 0; i < polls; i++) {
    if (done(await storedOffsets(db))) return;
    await kit.sleep(50);
  }
}

/** Kafka admin and producer, the warehouse connection, and the topic with `partitions`. */
async function connect(partitions) {
  const admin = kafka.admin();
  const producer = kafka.producer();
  const db = new Client({ connectionString: WAREHOUSE_URL });
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
  await admin.ensureTopics([{ topic, partitions }]);
  return { admin, producer, db };
}

async function throughput(n, partitions, mode) {
  const { admin, producer, db } = await connect(partitions);
  const changes = workload.createWorkload({ partitions });
  await workload.produceAll(
    producer,
    Array.from({ length: n }, () => workload.tidewayRecord(topic, changes.next())),
  );
  await producer.disconnect();
  const loader = await startLoader({ DWH_MODE: mode });
  await loader.ready();
  const run = kit.measure(loader.pid);
  await untilStored(db, (stored) => [...stored.values()].reduce((a, b) => a + b, 0) >= n);
  const r = run.end(n);
  const rss = kit.peakRssMiB(loader.pid);
  await loader.stop();
  // Upsert mode leaves the changes' final state: every row, none lost or left over.
  if (mode === 'upsert') await workload.verifyTable(db, `"${schema}".${workload.TABLE}`, changes.expected(), 'dwh-loader');
  await cleanup(admin, db);
  await Promise.all([admin.disconnect(), db.end()]);
  kit.result(
    'dwh-loader',
    'throughput',
    {
      mode: 'throughput',
      loadMode: mode,
      changes: n,
      partitions,
      seconds: r.seconds,
      changesPerSecond: Math.round(r.rate),
      cpuSeconds: r.cpuSeconds,
      cpuMicrosPerRecord: r.cpuMicrosPerRecord,
      peakRssMiB: Math.round(rss),
    },
    `throughput (${mode}): ${n} changes in ${r.seconds.toFixed(2)} s → ${Math.round(r.rate)} changes/s, ${kit.cpuText(r.cpuMicrosPerRecord, 'change')}, peak RSS ${Math.round(rss)} MiB`,
  );
}

async function latency(rate, seconds, partitions) {
  const { admin, producer, db } = await connect(partitions);
  const loader = await startLoader();
  await loader.ready();
  // Let the group settle before timing: the first fetch after joining is not steady state.
  const changes = workload.createWorkload({ partitions });
  const first = changes.next();
  await producer.send([workload.tidewayRecord(topic, first)]);
  await untilStored(db, (stored) => stored.get(first.partition) >= 1, 200);

  const pending = []; // { partition, lastOffset, ackedAt }
  const latencies = [];
  let stopPolling = false;
  const poller = (async () => {
    while (!stopPolling || pending.length > 0) {
      const stored = await storedOffsets(db);
      const now = Date.now();
      for (let i = pending.length - 1; i >= 0; i--) {
        const p = pending[i];
        if ((stored.get(p.partition) ?? 0) > p.lastOffset) {
          latencies.push(now - p.ackedAt);
          pending.splice(i, 1);
        }
      }
      await kit.sleep(20);
    }
  })();
  const run = kit.measure(loader.pid);
  const { produced, elapsed } = await workload.produceAtRate(producer, {
    rate,
    seconds,
    batch: (tick, size) => Array.from({ length: size }, () => workload.tidewayRecord(topic, changes.next())),
    onAck: (tick, reports, ackedAt) => {
      const last = new Map();
      for (const r of reports) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, Number(r.offset)));
      for (const [partition, lastOffset] of last) pending.push({ partition, lastOffset, ackedAt });
    },
  });
  stopPolling = true;
  await Promise.race([poller, kit.sleep(60_000)]);
  // The loader's CPU for the changes produced at the fixed rate, until the last one is visible.
  const cpu = run.end(produced);
  const rss = kit.peakRssMiB(loader.pid);
  await loader.stop();
  await producer.disconnect();
  await cleanup(admin, db);
  await Promise.all([admin.disconnect(), db.end()]);
  const { p50Ms, p99Ms, maxMs } = kit.quantiles(latencies);
  const achievedRate = Math.round(produced / elapsed);
  kit.result(
    'dwh-loader',
    'latency',
    {
      mode: 'latency',
      targetRate: rate,
      achievedRate,
      batchesMeasured: latencies.length,
      unresolved: pending.length,
      p50Ms,
      p99Ms,
      maxMs,
      cpuSeconds: cpu.cpuSeconds,
      cpuMicrosPerRecord: cpu.cpuMicrosPerRecord,
      peakRssMiB: Math.round(rss),
    },
    `latency: ${achievedRate} changes/s for ${seconds} s: ack→visible p50 ${p50Ms} ms, p99 ${p99Ms} ms, max ${maxMs} ms (${latencies.length} batches, ${pending.length} unresolved), ${kit.cpuText(cpu.cpuMicrosPerRecord, 'change')}, peak RSS ${Math.round(rss)} MiB`,
  );
}

const [cmd = 'throughput', a, b, c] = process.argv.slice(2);
kit.run(() =>
  cmd === 'latency' ? latency(Number(a || 5000), Number(b || 30), Number(c || 3)) : throughput(Number(a || 200000), Number(b || 3), c || 'upsert'),
);
