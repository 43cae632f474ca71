#!/usr/bin/env node
/**
 * Benchmark of `tideway dwh-loader` against the local Kafka and PostgreSQL (`npm run stack:up`).
 * Needs `npm run build` first: it runs the service from dist/.
 *
 *   npm run build && node bench/dwh-loader/bench.js throughput [changes=200000] [partitions=3] [mode=upsert]
 *     e.g. node bench/dwh-loader/bench.js throughput 20000 3 upsert   (a short check)
 *     Pre-fills a topic with `changes` change events (a mixed insert/update/delete workload over
 *     50,000 keys, with the tideway.columns header, as `tideway cdc` writes them), starts one
 *     loader and times it from ready until the warehouse-stored offsets cover every record.
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
const { COLUMNS_HEADER } = require('@tideway/runtime');
const kit = require('../kit');

const id = randomBytes(3).toString('hex');
const topic = `bench-dwh-${id}.changes`;
const schema = `bench_dwh_${id}`;
const WAREHOUSE_URL = process.env.DWH_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/warehouse';
const kafka = kit.benchKafka();

const COLUMNS = JSON.stringify([
  { name: 'policy_id', type: 'bigint', key: true },
  { name: 'holder', type: 'text', key: false },
  { name: 'premium', type: 'numeric(12,2)', key: false },
  { name: 'status', type: 'character varying(16)', key: false },
  { name: 'starts_on', type: 'date', key: false },
  { name: 'updated_at', type: 'timestamp with time zone', key: false },
]);
const KEYS = 50_000;
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const live = new Set();
let lsn = 1_000_000;

/** One change event (~450 bytes) for a random key: insert, update or delete. */
function change(partitions) {
  const key = Math.floor(rand() * KEYS);
  // As tideway cdc does: all changes of a key on one partition.
  const partition = key % partitions;
  lsn += 1;
  const row = {
    policy_id: key,
    holder: `Holder ${key}`,
    premium: (rand() * 5000).toFixed(2),
    status: rand() < 0.9 ? 'active' : 'lapsed',
    starts_on: '2026-01-15',
    updated_at: new Date().toISOString(),
  };
  let op = live.has(key) ? 'u' : 'c';
  if (op === 'u' && rand() < 0.1) op = 'd';
  if (op === 'd') live.delete(key);
  else live.add(key);
  const value = {
    before: op === 'c' ? null : { policy_id: key },
    after: op === 'd' ? null : row,
    op,
    ts_ms: Date.now(),
    source: {
      version: 'bench',
      connector: 'postgresql',
      name: 'tideway',
      db: 'app',
      schema: 'public',
      table: 'policies',
      lsn,
      txId: lsn,
      ts_ms: Date.now(),
      snapshot: 'false',
    },
  };
  return { topic, partition, key: JSON.stringify({ policy_id: key }), value: JSON.stringify(value), headers: { [COLUMNS_HEADER]: COLUMNS } };
}

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
  for (let sent = 0; sent < n;) {
    const batch = [];
    for (let i = 0; i < 2000 && sent < n; i++, sent++) batch.push(change(partitions));
    await producer.send(batch);
  }
  await producer.disconnect();
  const loader = await startLoader({ DWH_MODE: mode });
  await loader.ready();
  const run = kit.measure(loader.pid);
  await untilStored(db, (stored) => [...stored.values()].reduce((a, b) => a + b, 0) >= n);
  const r = run.end(n);
  const rss = kit.peakRssMiB(loader.pid);
  await loader.stop();
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
  await producer.send([change(1)]);
  await untilStored(db, (stored) => stored.get(0) >= 1, 200);

  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const pending = []; // { partition, lastOffset, ackedAt }
  const latencies = [];
  let produced = 0;
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
  const start = Date.now();
  const end = start + seconds * 1000;
  let tick = 0;
  const inflight = [];
  while (Date.now() < end) {
    const batch = [];
    for (let i = 0; i < perTick; i++) batch.push(change(partitions));
    produced += batch.length;
    inflight.push(
      producer.send(batch).then((reports) => {
        const ackedAt = Date.now();
        const last = new Map();
        for (const r of reports) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, Number(r.offset)));
        for (const [partition, lastOffset] of last) pending.push({ partition, lastOffset, ackedAt });
      }),
    );
    tick += 1;
    const wait = start + tick * tickMs - Date.now();
    if (wait > 0) await kit.sleep(wait);
  }
  const elapsed = (Date.now() - start) / 1000;
  await Promise.all(inflight);
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
