#!/usr/bin/env node
/**
 * tideway cdc benchmark against the local stack (npm run stack:up; npm run build first).
 *
 *   node bench/cdc/bench.js [throughputChanges=300000] [latencyRate=5000] [latencySeconds=30]
 *
 * 1. Throughput: a pgbench-style writer (2 connections, transactions of 100 ~200-byte rows:
 *    inserts, then updates of the same rows) runs while `tideway cdc` streams. The clock stops
 *    when the slot's confirmed_flush_lsn (advanced only after Kafka acknowledged, acks=all) passes
 *    the writer's last commit. Also measured: catch-up, where the same volume is written while
 *    the service is down and then drained.
 * 2. Latency: the writer paces 10-row transactions to a fixed changes/s; commit→Kafka-ack comes from
 *    the service's tideway_cdc_commit_to_ack_seconds histogram (PostgreSQL commit timestamp to the
 *    acknowledgement of the transaction's last event), p50/p99 interpolated within buckets.
 * Peak RSS is the child's VmHWM from /proc.
 */
/* global fetch */
'use strict';
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');

const ROOT = path.resolve(__dirname, '..', '..');
const DB = process.env.CDC_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/app';
const TOTAL = Number(process.argv[2] || 300_000);
const RATE = Number(process.argv[3] || 5_000);
const LATENCY_SECONDS = Number(process.argv[4] || 30);
const id = Math.random().toString(16).slice(2, 10);
const table = `bench_cdc_${id}`;
const slot = `bench_cdc_${id}`;
const publication = `bench_cdc_${id}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connect() {
  const c = new Client({ connectionString: DB });
  await c.connect();
  return c;
}

function startCdc(port) {
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", goes to the child's node.
  const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'tideway.js'), 'cdc'], {
    env: { ...process.env, CDC_DATABASE_URL: DB, CDC_TABLES: `public.${table}`, CDC_SLOT: slot, CDC_PUBLICATION: publication, CDC_SNAPSHOT: 'never', METRICS_PORT: String(port), LOG_LEVEL: 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitReady(port) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error('tideway cdc did not become ready');
}

function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function waitConfirmed(meta, lsn) {
  for (;;) {
    const r = await meta.query('SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]);
    if (r.rows[0] && r.rows[0].ok) return;
    await sleep(20);
  }
}

const NOTE = "'" + 'x'.repeat(120) + "'";
/** One transaction of `rows` changes: new rows inserted, or existing ones updated. */
async function writeTx(c, firstId, rows, update) {
  if (update) {
    await c.query(`UPDATE ${table} SET amount = amount + 1, status = 'updated', updated_at = now() WHERE id BETWEEN $1 AND $2`, [firstId, firstId + rows - 1]);
  } else {
    await c.query(
      `INSERT INTO ${table} (id, account, amount, status, note, updated_at)
       SELECT g, g % 1000, (g % 100000) / 100.0, 'new', ${NOTE}, now() FROM generate_series($1::bigint, $2::bigint) g`,
      [firstId, firstId + rows - 1],
    );
  }
}

/** Writes `total` changes in 100-row transactions over two connections; returns the last commit LSN. */
async function writeVolume(writers, meta, base, total) {
  const per = 100;
  const half = total / 2; // inserts, then updates of the same rows
  let next = 0;
  await Promise.all(
    writers.map(async (c) => {
      for (;;) {
        const i = next;
        next += per;
        if (i >= total) return;
        const update = i >= half;
        await writeTx(c, base + (update ? i - half : i), per, update);
      }
    }),
  );
  return (await meta.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

function histogram(text, name) {
  const buckets = [];
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"[^}]*\\} (\\d+)`, 'gm');
  let m;
  while ((m = re.exec(text))) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  return buckets;
}

function quantile(before, after, q) {
  const b = after.map((x, i) => ({ le: x.le, count: x.count - (before[i] ? before[i].count : 0) }));
  const total = b[b.length - 1].count;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const x of b) {
    if (x.count >= rank) {
      if (x.le === Infinity) return prevLe;
      return prevLe + ((x.le - prevLe) * (rank - prevCount)) / Math.max(1, x.count - prevCount);
    }
    prevLe = x.le;
    prevCount = x.count;
  }
  return NaN;
}

async function main() {
  const meta = await connect();
  const writers = [await connect(), await connect()];
  await meta.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, account int, amount numeric(12,2), status text, note text, updated_at timestamptz)`);
  const port = 19000 + Math.floor(Math.random() * 1000);
  let child = startCdc(port);
  try {
    await waitReady(port);

    // 1a. Live: writer and service at the same time.
    let t0 = process.hrtime.bigint();
    let lsn = await writeVolume(writers, meta, 0, TOTAL);
    const writeSec = Number(process.hrtime.bigint() - t0) / 1e9;
    await waitConfirmed(meta, lsn);
    const liveSec = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`live:      ${TOTAL} changes written in ${writeSec.toFixed(2)} s, all acknowledged by Kafka after ${liveSec.toFixed(2)} s → ${Math.round(TOTAL / liveSec)} changes/s`);

    // 1b. Catch-up: the same volume written while the service is down, then drained.
    const liveRss = peakRssMiB(child.pid);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    lsn = await writeVolume(writers, meta, 10_000_000, TOTAL);
    child = startCdc(port);
    t0 = process.hrtime.bigint();
    await waitConfirmed(meta, lsn);
    const catchSec = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`catch-up:  ${TOTAL} changes drained in ${catchSec.toFixed(2)} s (including start-up) → ${Math.round(TOTAL / catchSec)} changes/s`);
    await waitReady(port);

    // 2. Latency at a fixed rate: 10-row transactions, paced every 10 ms.
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const before = histogram(await (await fetch(metricsUrl)).text(), 'tideway_cdc_commit_to_ack_seconds');
    const rowsPerTx = 10;
    const txPerTick = Math.max(1, Math.round(RATE / rowsPerTx / 100));
    let nextId = 20_000_000;
    const start = Date.now();
    let written = 0;
    for (let tick = 0; Date.now() - start < LATENCY_SECONDS * 1000; tick++) {
      const due = start + tick * 10;
      if (due > Date.now()) await sleep(due - Date.now());
      const firstId = nextId;
      nextId += txPerTick * rowsPerTx;
      // Each connection runs its share of this tick's transactions one after the other.
      await Promise.all(
        writers.map(async (c, w) => {
          for (let k = w; k < txPerTick; k += writers.length) await writeTx(c, firstId + k * rowsPerTx, rowsPerTx, false);
        }),
      );
      written += txPerTick * rowsPerTx;
    }
    const achieved = written / ((Date.now() - start) / 1000);
    lsn = (await meta.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
    await waitConfirmed(meta, lsn);
    await sleep(300);
    const after = histogram(await (await fetch(metricsUrl)).text(), 'tideway_cdc_commit_to_ack_seconds');
    const p50 = quantile(before, after, 0.5) * 1000;
    const p99 = quantile(before, after, 0.99) * 1000;
    console.log(`latency:   ${Math.round(achieved)} changes/s for ${LATENCY_SECONDS} s: commit→Kafka-ack p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    console.log(`peak RSS:  ${Math.max(liveRss, peakRssMiB(child.pid)).toFixed(0)} MiB (tideway cdc process, VmHWM: live run ${liveRss.toFixed(0)}, catch-up + latency run ${peakRssMiB(child.pid).toFixed(0)})`);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    for (let i = 0; i < 50; i++) {
      try {
        await meta.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        break;
      } catch {
        await sleep(200);
      }
    }
    await meta.query(`DROP PUBLICATION IF EXISTS ${publication}`);
    await meta.query(`DROP TABLE IF EXISTS ${table}`);
    await meta.query('DELETE FROM public.tideway_cdc_state WHERE slot_name = $1', [slot]).catch(() => undefined);
    for (const c of [meta, ...writers]) await c.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
