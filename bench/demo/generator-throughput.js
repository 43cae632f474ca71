#!/usr/bin/env node
/**
 * How fast `tideway demo` can write changes into PostgreSQL (the generator's ceiling, so a chosen
 * DEMO_RATE below it is met). Writes N changes in batches into a fresh schema of the local
 * stack's `app` database, then drops the schema. Needs `npm run build` first: it loads the demo's
 * generator and writer from services/demo/dist/.
 *
 *   npm run build && node bench/demo/generator-throughput.js [changes=20000] [batch=100]
 *
 * CPU per change (µs CPU/change, cpuMicrosPerRecord): user + system CPU of this process (the
 * generator and the PostgreSQL client) while it writes, divided by the changes.
 * Prints its line and `RESULT {json}` (bench/kit.js).
 */
'use strict';
const { Pool } = require('pg');
const { ChangeGenerator } = require('../../services/demo/dist/generator');
const { PostgresChangeWriter } = require('../../services/demo/dist/postgres-writer');
const kit = require('../kit');
require('../../test-support/load-stack-env.js');

async function main() {
  const total = Number(process.argv[2] ?? 20000);
  const batch = Number(process.argv[3] ?? 100);
  const schema = `bench_demo_${Math.random().toString(36).slice(2, 8)}`;
  const pool = new Pool({ connectionString: process.env.CDC_DATABASE_URL, max: 2 });
  const writer = new PostgresChangeWriter(pool, schema);
  try {
    await writer.ensureSchema();
    const gen = new ChangeGenerator({ seed: 1, fraudRatio: 0.05 });
    const run = kit.measure(process.pid);
    for (let done = 0; done < total; done += batch) await writer.write(gen.take(Math.min(batch, total - done), new Date()));
    const r = run.end(total);
    const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
    kit.result(
      'demo-generator',
      'throughput',
      {
        changes: total,
        batch,
        seconds: +r.seconds.toFixed(2),
        changesPerSecond: Math.round(r.rate),
        cpuSeconds: r.cpuSeconds,
        cpuMicrosPerRecord: r.cpuMicrosPerRecord,
        rssMiB,
      },
      `generator: ${total} changes in batches of ${batch} in ${r.seconds.toFixed(2)} s → ${Math.round(r.rate)} changes/s, ${kit.cpuText(r.cpuMicrosPerRecord, 'change')}, RSS ${rssMiB} MiB`,
    );
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

kit.run(main);
