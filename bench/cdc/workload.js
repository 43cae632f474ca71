/**
 * The source side of the cdc benchmarks (bench/cdc/bench.js and bench/peers/cdc.js): the bench
 * table, a pgbench-style writer of a given volume, a writer paced to a fixed rate, and the server
 * facts the benches wait on.
 *
 * The table: `bigint` key, `int`, `numeric(12,2)`, two `text` (one of 120 characters), `timestamptz`
 * (rows of ~200 bytes). The volume: 100-row transactions over the given connections, inserts of new
 * rows for the first half, then updates of the same rows (so `total` changes are `total / 2` ids,
 * each once inserted (op c) and once updated (op u)). The paced writer: 10-row insert transactions,
 * a tick every 10 ms, each tick's transactions spread over the connections.
 */
'use strict';
const { Client } = require('pg');
const { sleep } = require('../kit');

const DB = process.env.CDC_DATABASE_URL || 'postgres://postgres@127.0.0.1:55432/app';
const NOTE = "'" + 'x'.repeat(120) + "'";

async function connect(url = DB) {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

async function createTable(c, table) {
  await c.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, account int, amount numeric(12,2), status text, note text, updated_at timestamptz)`);
}

/** One transaction of `rows` changes: new rows inserted, or existing ones updated. */
async function writeTx(c, table, firstId, rows, update) {
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

async function currentLsn(meta) {
  return (await meta.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

/**
 * Writes `total` changes in 100-row transactions over the `writers` connections: ids base …
 * base + total/2 − 1 inserted, then updated. Returns the WAL position after the last commit.
 */
async function writeVolume(writers, meta, table, base, total) {
  const per = 100;
  const half = total / 2;
  let next = 0;
  await Promise.all(
    writers.map(async (c) => {
      for (;;) {
        const i = next;
        next += per;
        if (i >= total) return;
        const update = i >= half;
        await writeTx(c, table, base + (update ? i - half : i), per, update);
      }
    }),
  );
  return currentLsn(meta);
}

/**
 * Inserts new rows from id `firstId` at `rate` changes/s for `seconds`: 10-row transactions, a tick
 * every 10 ms. Returns { written, achieved } (changes, and changes/s over the wall time).
 */
async function writePaced(writers, table, { rate, seconds, firstId }) {
  const rowsPerTx = 10;
  const txPerTick = Math.max(1, Math.round(rate / rowsPerTx / 100));
  let nextId = firstId;
  let written = 0;
  const start = Date.now();
  for (let tick = 0; Date.now() - start < seconds * 1000; tick++) {
    const due = start + tick * 10;
    if (due > Date.now()) await sleep(due - Date.now());
    const tickFirst = nextId;
    nextId += txPerTick * rowsPerTx;
    // Each connection runs its share of this tick's transactions one after the other.
    await Promise.all(
      writers.map(async (c, w) => {
        for (let k = w; k < txPerTick; k += writers.length) await writeTx(c, table, tickFirst + k * rowsPerTx, rowsPerTx, false);
      }),
    );
    written += txPerTick * rowsPerTx;
  }
  return { written, achieved: written / ((Date.now() - start) / 1000) };
}

/** Resolves once the slot's confirmed_flush_lsn has passed `lsn`. */
async function waitConfirmed(meta, slot, lsn) {
  for (;;) {
    const r = await meta.query('SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]);
    if (r.rows[0] && r.rows[0].ok) return;
    await sleep(20);
  }
}

/** Drops a replication slot, retrying while its last user's connection is still closing. */
async function dropSlot(meta, slot) {
  for (let i = 0; i < 50; i++) {
    try {
      await meta.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return;
    } catch {
      await sleep(200);
    }
  }
}

module.exports = { DB, connect, createTable, writeTx, currentLsn, writeVolume, writePaced, waitConfirmed, dropSlot };
