'use strict';
/** Shared by the correctness checks of the Kafka client candidates: names, waiting, the case runner. */
const { randomUUID } = require('node:crypto');
const path = require('node:path');

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** A topic/group/transactional-id prefix no other run on the shared broker uses. */
const unique = (what) => `kc-${what}-${randomUUID().slice(0, 8)}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() is truthy; throws with describe() after the deadline (generous: a loaded 2-core machine). */
async function waitFor(check, describe, deadlineMs = 45_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${describe()}`);
    await sleep(50);
  }
}

/** The runtime's Java-compatible key → partition mapping (built dist/ of @tideway/runtime). */
function keyPartition(key, partitions) {
  const runtime = require(path.join(__dirname, '../../../services/runtime/dist/kafka/kafkajs-client.js'));
  return runtime.keyPartition(key, partitions);
}

/** Runs the named cases (argv filters by letter), printing one line each and a JSON summary. */
async function runCases(library, cases) {
  const only = process.argv.slice(2);
  const results = {};
  for (const [name, fn] of Object.entries(cases)) {
    if (only.length && !only.includes(name[0])) continue;
    const t0 = Date.now();
    try {
      const observed = await fn();
      results[name] = { pass: true, observed };
    } catch (err) {
      results[name] = { pass: false, observed: String(err?.stack ?? err).split('\n').slice(0, 3).join(' | ') };
    }
    const r = results[name];
    console.log(`${library} ${name}: ${r.pass ? 'PASS' : 'FAIL'} (${((Date.now() - t0) / 1000).toFixed(1)} s) ${JSON.stringify(r.observed)}`);
  }
  return results;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

module.exports = { BROKERS, unique, sleep, waitFor, keyPartition, runCases, assert };
