#!/usr/bin/env node
/**
 * Benchmark of `tideway dwh-loader` against the local Kafka and PostgreSQL (npm run stack:up;
 * npx tsc -b services/dwh-loader).
 *
 *   node bench/dwh-loader/bench.js throughput [changes=200000] [partitions=3] [mode=upsert]
 *     Pre-fills a topic with `changes` change events (a mixed insert/update/delete workload over
 *     50,000 keys, with the tideway.columns header, as `tideway cdc` writes them), starts one
 *     loader and times it from ready until the warehouse-stored offsets cover every record.
 *     Reports changes/s applied and the loader's peak RSS.
 *   node bench/dwh-loader/bench.js latency [rate=5000] [seconds=30] [partitions=3]
 *     Starts one loader, then produces at a fixed rate; polls the warehouse-stored offsets every
 *     20 ms and reports, per produced batch, the time from its acknowledgement by Kafka until
 *     the warehouse transaction that holds it is visible: p50 / p99 / max, and peak RSS.
 *
 * Everything it creates is named bench-dwh-<random> / bench_dwh_<random> and removed at the end.
 */
'use strict';
/* global fetch */
const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawn } = require('node:child_process');
const { Client } = require('pg');
const { createLogger, KafkajsClient, kafkaConfigFrom, COLUMNS_HEADER } = require('@tideway/runtime');

const ROOT = join(__dirname, '..', '..');
const id = randomBytes(3).toString('hex');
const topic = `bench-dwh-${id}.changes`;
const schema = `bench_dwh_${id}`;
const WAREHOUSE_URL = process.env.DWH_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/warehouse';
const kafka = new KafkajsClient(kafkaConfigFrom({ kafkaBrokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','), kafkaClientId: 'bench', kafkaSaslMechanism: 'none', kafkaTls: false, kafkaConnectionTimeoutMs: 10000 }, createLogger('bench', 'silent')));

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
  const row = { policy_id: key, holder: `Holder ${key}`, premium: (rand() * 5000).toFixed(2), status: rand() < 0.9 ? 'active' : 'lapsed', starts_on: '2026-01-15', updated_at: new Date().toISOString() };
  let op = live.has(key) ? 'u' : 'c';
  if (op === 'u' && rand() < 0.1) op = 'd';
  if (op === 'd') live.delete(key);
  else live.add(key);
  const value = {
    before: op === 'c' ? null : { policy_id: key },
    after: op === 'd' ? null : row,
    op,
    ts_ms: Date.now(),
    source: { version: 'bench', connector: 'postgresql', name: 'tideway', db: 'app', schema: 'public', table: 'policies', lsn, txId: lsn, ts_ms: Date.now(), snapshot: 'false' },
  };
  return { topic, partition, key: JSON.stringify({ policy_id: key }), value: JSON.stringify(value), headers: { [COLUMNS_HEADER]: COLUMNS } };
}

function startLoader(env = {}) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the loader there (open it in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, join(ROOT, 'bin', 'tideway.js'), 'dwh-loader'], {
    env: { ...process.env, DWH_DATABASE_URL: WAREHOUSE_URL, DWH_TOPICS: topic, DWH_SCHEMA: schema, DWH_GROUP_ID: `${schema}-group`, METRICS_PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function waitReady(url, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`loader exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('loader not ready');
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function storedOffsets(db) {
  const r = await db.query(`SELECT partition, next_offset FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [] }));
  const out = new Map();
  for (const row of r.rows) out.set(Number(row.partition), Number(row.next_offset));
  return out;
}

async function stopLoader(child) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function cleanup(admin, db) {
  await admin.deleteTopics([topic, `${topic}.dlq`].filter(() => true)).catch(() => undefined);
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
}

async function throughput(n, partitions, mode) {
  const admin = kafka.admin();
  const producer = kafka.producer();
  const db = new Client({ connectionString: WAREHOUSE_URL });
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
  await admin.ensureTopics([{ topic, partitions }]);
  for (let sent = 0; sent < n; ) {
    const batch = [];
    for (let i = 0; i < 2000 && sent < n; i++, sent++) batch.push(change(partitions));
    await producer.send(batch);
  }
  await producer.disconnect();
  const { child, url } = startLoader({ DWH_MODE: mode });
  await waitReady(url, child);
  const t0 = Date.now();
  for (;;) {
    const stored = await storedOffsets(db);
    const total = [...stored.values()].reduce((a, b) => a + b, 0);
    if (total >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (Date.now() - t0) / 1000;
  const rss = peakRssMiB(child.pid);
  await stopLoader(child);
  await cleanup(admin, db);
  await Promise.all([admin.disconnect(), db.end()]);
  console.log(JSON.stringify({ mode: 'throughput', loadMode: mode, changes: n, partitions, seconds, changesPerSecond: Math.round(n / seconds), peakRssMiB: Math.round(rss) }));
}

async function latency(rate, seconds, partitions) {
  const admin = kafka.admin();
  const producer = kafka.producer();
  const db = new Client({ connectionString: WAREHOUSE_URL });
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
  await admin.ensureTopics([{ topic, partitions }]);
  const { child, url } = startLoader();
  await waitReady(url, child);
  // Let the group settle before timing: the first fetch after joining is not steady state.
  await producer.send([change(1)]);
  for (let i = 0; i < 200; i++) {
    if ((await storedOffsets(db)).get(0) >= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }

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
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const start = Date.now();
  const end = start + seconds * 1000;
  let tick = 0;
  const inflight = [];
  while (Date.now() < end) {
    const batch = [];
    for (let i = 0; i < perTick; i++) batch.push(change(partitions));
    produced += batch.length;
    const counts = new Map();
    for (const m of batch) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
    inflight.push(
      producer.send(batch).then((reports) => {
        const ackedAt = Date.now();
        for (const r of reports) pending.push({ partition: r.partition, lastOffset: Number(r.baseOffset) + counts.get(r.partition) - 1, ackedAt });
      }),
    );
    tick += 1;
    const wait = start + tick * tickMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const elapsed = (Date.now() - start) / 1000;
  await Promise.all(inflight);
  stopPolling = true;
  await Promise.race([poller, new Promise((r) => setTimeout(r, 60_000))]);
  const rss = peakRssMiB(child.pid);
  await stopLoader(child);
  await producer.disconnect();
  await cleanup(admin, db);
  await Promise.all([admin.disconnect(), db.end()]);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(JSON.stringify({ mode: 'latency', targetRate: rate, achievedRate: Math.round(produced / elapsed), batchesMeasured: latencies.length, unresolved: pending.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: latencies[latencies.length - 1], peakRssMiB: Math.round(rss) }));
}

const [cmd = 'throughput', a, b, c] = process.argv.slice(2);
const run = cmd === 'latency' ? latency(Number(a || 5000), Number(b || 30), Number(c || 3)) : throughput(Number(a || 200000), Number(b || 3), c || 'upsert');
run.then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
