#!/usr/bin/env node
// How fast `tideway demo` can write changes into PostgreSQL (the generator's ceiling, so a chosen
// DEMO_RATE below it is met). Writes N changes in batches into a fresh schema of the local
// stack's `app` database, then drops the schema.
//   npm run build && node bench/demo/generator-throughput.js [changes=20000] [batch=100]
'use strict';
const { Pool } = require('pg');
const { ChangeGenerator } = require('../../services/demo/dist/generator');
const { PostgresChangeWriter } = require('../../services/demo/dist/postgres-writer');
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
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < total; done += batch) await writer.write(gen.take(Math.min(batch, total - done), new Date()));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ changes: total, batch, seconds: +seconds.toFixed(2), changesPerSecond: Math.round(total / seconds), rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }));
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
