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
      results[name] = {
        pass: false,
        observed: String(err?.stack ?? err)
          .split('\n')
          .slice(0, 3)
          .join(' | '),
      };
    }
    const r = results[name];
    console.log(`${library} ${name}: ${r.pass ? 'PASS' : 'FAIL'} (${((Date.now() - t0) / 1000).toFixed(1)} s) ${JSON.stringify(r.observed)}`);
  }
  return results;
}

/** Runs `fn` with a connected admin of a KafkaJS-API client (`kafka.admin()`), disconnected afterwards. */
async function withConnectedAdmin(kafka, fn) {
  const admin = kafka.admin();
  await admin.connect();
  return fn(admin).finally(() => admin.disconnect());
}

/**
 * Case a for a KafkaJS-API client: two transactional producers interleave on partition 0 and both
 * abort, then a plain producer writes 'committed'. `send` is merged into each send (e.g. acks).
 */
async function writeNestedAborts(producer, topic, send) {
  const a = producer({ transactionalId: `${topic}-a` });
  const b = producer({ transactionalId: `${topic}-b` });
  const plain = producer();
  for (const p of [a, b, plain]) await p.connect();
  const rec = (value) => ({ topic, ...send, messages: [{ partition: 0, value }] });
  const ta = await a.transaction();
  const tb = await b.transaction();
  // Offsets 0..3: a1, b1, b2, a2, interleaved; then both abort.
  for (const [t, value] of [
    [ta, 'a1'],
    [tb, 'b1'],
    [tb, 'b2'],
    [ta, 'a2'],
  ])
    await t.send(rec(value));
  for (const t of [ta, tb]) await t.abort();
  await plain.send(rec('committed'));
  for (const p of [a, b, plain]) await p.disconnect();
}

/** Case a's check: read_committed from offset 0 and from 2 (inside the aborted runs) sees 'committed' alone. */
async function onlyCommittedVisible(read, topic) {
  const hasCommitted = (s) => s.some((m) => m.value === 'committed');
  const from0 = await read(topic, { done: hasCommitted });
  const from2 = await read(topic, { startAt: 2, done: hasCommitted });
  const values = (s) => s.map((m) => `${m.value}@${m.offset}`).join(',');
  assert(from0.length === 1 && from2.length === 1, `from 0: ${values(from0)}; from 2: ${values(from2)}`);
  return `from 0: ${values(from0)}; from 2: ${values(from2)}`;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

module.exports = { BROKERS, unique, sleep, waitFor, keyPartition, runCases, withConnectedAdmin, writeNestedAborts, onlyCommittedVisible, assert };
