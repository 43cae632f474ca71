#!/usr/bin/env node
/**
 * tideway cdc benchmark against the local stack (`npm run stack:up`). Needs `npm run build` first:
 * it runs the service from dist/.
 *
 *   npm run build && node bench/cdc/bench.js [throughputChanges=300000] [latencyRate=5000] [latencySeconds=30]
 *   e.g. node bench/cdc/bench.js 20000 5000 5   (a short check)
 *
 * 1. Throughput: a pgbench-style writer (2 connections, transactions of 100 ~200-byte rows:
 *    inserts, then updates of the same rows) runs while `tideway cdc` streams. The clock stops
 *    when the slot's confirmed_flush_lsn (advanced only after Kafka acknowledged, acks=all) passes
 *    the writer's last commit. Also measured: catch-up, where the same volume is written while
 *    the service is down and then drained.
 * 2. Latency: the writer paces 10-row transactions to a fixed changes/s; commit→Kafka-ack comes from
 *    the service's tideway_cdc_commit_to_ack_seconds histogram (PostgreSQL commit timestamp to the
 *    acknowledgement of the transaction's last event), p50/p99 interpolated within buckets.
 * CPU per change (µs CPU/change, cpuMicrosPerRecord): user + system CPU of the `tideway cdc` process
 * over the run's interval (live: the writer's start until the last ack; catch-up: the service's
 * start until the last ack; latency: the paced writes until the last ack) divided by its changes.
 * Peak RSS is the child's VmHWM from /proc. Each run prints its line and `RESULT {json}` (bench/kit.js).
 */
'use strict';
const kit = require('../kit');
const workload = require('./workload');

const DB = workload.DB;
const TOTAL = Number(process.argv[2] || 300_000);
const RATE = Number(process.argv[3] || 5_000);
const LATENCY_SECONDS = Number(process.argv[4] || 30);
const id = Math.random().toString(16).slice(2, 10);
const table = `bench_cdc_${id}`;
const slot = `bench_cdc_${id}`;
const publication = `bench_cdc_${id}`;
const { sleep } = kit;
const { connect } = workload;

function startCdc(port) {
  return kit.startService('cdc', {
    CDC_DATABASE_URL: DB,
    CDC_TABLES: `public.${table}`,
    CDC_SLOT: slot,
    CDC_PUBLICATION: publication,
    CDC_SNAPSHOT: 'never',
    METRICS_PORT: String(port),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  });
}

const waitConfirmed = (meta, lsn) => workload.waitConfirmed(meta, slot, lsn);
const writeVolume = (writers, meta, base, total) => workload.writeVolume(writers, meta, table, base, total);

async function main() {
  const meta = await connect();
  const writers = [await connect(), await connect()];
  await workload.createTable(meta, table);
  const port = await kit.freePort();
  let cdc = await startCdc(port);
  try {
    await cdc.ready();

    // 1a. Live: writer and service at the same time.
    let run = kit.measure(cdc.pid);
    let lsn = await writeVolume(writers, meta, 0, TOTAL);
    const writeSec = run.end(TOTAL).seconds;
    await waitConfirmed(meta, lsn);
    const live = run.end(TOTAL);
    const liveRss = kit.peakRssMiB(cdc.pid);
    kit.result(
      'cdc',
      'live',
      {
        changes: TOTAL,
        writeSeconds: writeSec,
        seconds: live.seconds,
        changesPerSecond: Math.round(live.rate),
        cpuSeconds: live.cpuSeconds,
        cpuMicrosPerRecord: live.cpuMicrosPerRecord,
        peakRssMiB: Math.round(liveRss),
      },
      `live:      ${TOTAL} changes written in ${writeSec.toFixed(2)} s, all acknowledged by Kafka after ${live.seconds.toFixed(2)} s → ${Math.round(live.rate)} changes/s, ${kit.cpuText(live.cpuMicrosPerRecord, 'change')}`,
    );

    // 1b. Catch-up: the same volume written while the service is down, then drained.
    await cdc.stop();
    lsn = await writeVolume(writers, meta, 10_000_000, TOTAL);
    cdc = await startCdc(port);
    run = kit.measure(cdc.pid);
    await waitConfirmed(meta, lsn);
    const catchUp = run.end(TOTAL);
    kit.result(
      'cdc',
      'catch-up',
      {
        changes: TOTAL,
        seconds: catchUp.seconds,
        changesPerSecond: Math.round(catchUp.rate),
        cpuSeconds: catchUp.cpuSeconds,
        cpuMicrosPerRecord: catchUp.cpuMicrosPerRecord,
      },
      `catch-up:  ${TOTAL} changes drained in ${catchUp.seconds.toFixed(2)} s (including start-up) → ${Math.round(catchUp.rate)} changes/s, ${kit.cpuText(catchUp.cpuMicrosPerRecord, 'change')}`,
    );
    await cdc.ready();

    // 2. Latency at a fixed rate: 10-row transactions, paced every 10 ms.
    const histogram = async () => kit.histogramBuckets(await cdc.metrics(), 'tideway_cdc_commit_to_ack_seconds');
    const before = await histogram();
    run = kit.measure(cdc.pid);
    const { written, achieved } = await workload.writePaced(writers, table, { rate: RATE, seconds: LATENCY_SECONDS, firstId: 20_000_000 });
    lsn = await workload.currentLsn(meta);
    await waitConfirmed(meta, lsn);
    // The service's CPU for the changes written at the fixed rate, until the last one is acknowledged.
    const latencyRun = run.end(written);
    await sleep(300);
    const after = await histogram();
    const p50 = kit.histogramQuantile(before, after, 0.5) * 1000;
    const p99 = kit.histogramQuantile(before, after, 0.99) * 1000;
    const rss = kit.peakRssMiB(cdc.pid);
    kit.result(
      'cdc',
      'latency',
      {
        targetRate: RATE,
        achievedRate: Math.round(achieved),
        seconds: LATENCY_SECONDS,
        changes: written,
        p50Ms: p50,
        p99Ms: p99,
        cpuSeconds: latencyRun.cpuSeconds,
        cpuMicrosPerRecord: latencyRun.cpuMicrosPerRecord,
        peakRssMiB: Math.round(rss),
      },
      `latency:   ${Math.round(achieved)} changes/s for ${LATENCY_SECONDS} s: commit→Kafka-ack p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${kit.cpuText(latencyRun.cpuMicrosPerRecord, 'change')}`,
    );
    console.log(
      `peak RSS:  ${Math.max(liveRss, rss).toFixed(0)} MiB (tideway cdc process, VmHWM: live run ${liveRss.toFixed(0)}, catch-up + latency run ${rss.toFixed(0)})`,
    );
  } finally {
    await cdc.stop();
    await workload.dropSlot(meta, slot);
    await meta.query(`DROP PUBLICATION IF EXISTS ${publication}`);
    await meta.query(`DROP TABLE IF EXISTS ${table}`);
    await meta.query('DELETE FROM public.tideway_cdc_state WHERE slot_name = $1', [slot]).catch(() => undefined);
    for (const c of [meta, ...writers]) await c.end();
  }
}

kit.run(main);
