/**
 * The dwh-loader benchmarks' workload, one copy for bench/dwh-loader/bench.js and
 * bench/peers/dwh-loader.js: a seeded stream of logical row changes to a `policies` table (inserts,
 * updates and deletes over 50,000 keys, all changes of a key on partition key % partitions), the
 * final state they leave (count and an MD5 of the rows, for comparing with the warehouse), and two
 * encodings of the same change — Tideway's envelope as `tideway cdc` writes it (`tideway.columns`
 * header) and a Debezium change event with JSON schemas, as Debezium's PostgreSQL connector writes
 * it through Kafka Connect's JsonConverter. Also the fixed-rate producer loop of the lag figures.
 */
'use strict';
const { createHash } = require('node:crypto');
const { COLUMNS_HEADER } = require('@tideway/runtime');
const kit = require('../kit');

const KEYS = 50_000;
const TABLE = 'policies';

const COLUMNS = JSON.stringify([
  { name: 'policy_id', type: 'bigint', key: true },
  { name: 'holder', type: 'text', key: false },
  { name: 'premium', type: 'numeric(12,2)', key: false },
  { name: 'status', type: 'character varying(16)', key: false },
  { name: 'starts_on', type: 'date', key: false },
  { name: 'updated_at', type: 'timestamp with time zone', key: false },
]);

/** The table as dwh-loader creates it from COLUMNS (data columns only), for a peer's pre-created table. */
const TABLE_DDL =
  'policy_id bigint NOT NULL PRIMARY KEY, holder text, premium numeric(12,2), status character varying(16), starts_on date, updated_at timestamp with time zone';

/**
 * A seeded change stream over `partitions`. `next()` gives one change {key, partition, op, row, lsn,
 * tsMs}: an insert for a key not in the table, else an update (a delete one time in ten).
 * `marker(partition, label)` updates the partition's marker row (a key outside the workload's keys,
 * on that partition) with `holder` = label: applied in partition order, its visibility means every
 * earlier change of the partition is applied. `expected()` is the final state: {rows, md5}.
 */
function createWorkload({ partitions, keys = KEYS, seed = 7 }) {
  let state = seed;
  const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows = new Map(); // key → row, the state the changes so far leave
  let lsn = 1_000_000;
  const markerKeys = Array.from({ length: partitions }, (_, p) => keys + ((((p - keys) % partitions) + partitions) % partitions));

  function emit(key, op, row) {
    lsn += 1;
    if (op === 'd') rows.delete(key);
    else rows.set(key, row);
    return { key, partition: key % partitions, op, row, lsn, tsMs: Date.now() };
  }
  function rowOf(key, holder) {
    return {
      policy_id: key,
      holder,
      premium: (rand() * 5000).toFixed(2),
      status: rand() < 0.9 ? 'active' : 'lapsed',
      starts_on: '2026-01-15',
      updated_at: new Date().toISOString(),
    };
  }
  return {
    partitions,
    markerKeys,
    next() {
      const key = Math.floor(rand() * keys);
      const row = rowOf(key, `Holder ${key}`);
      let op = rows.has(key) ? 'u' : 'c';
      if (op === 'u' && rand() < 0.1) op = 'd';
      return emit(key, op, op === 'd' ? null : row);
    },
    marker(partition, label) {
      const key = markerKeys[partition];
      return emit(key, rows.has(key) ? 'u' : 'c', rowOf(key, label));
    },
    expected() {
      const lines = new Map([...rows.keys()].sort((a, b) => a - b).map((k) => [k, rowLine(rows.get(k))]));
      return {
        rows: lines.size,
        md5: createHash('md5')
          .update([...lines.values()].join('\n'))
          .digest('hex'),
        lines,
      };
    },
  };
}

/** One row as the checksum query renders it: the six columns, the timestamp in epoch ms. */
function rowLine(r) {
  return [r.policy_id, r.holder, r.premium, r.status, r.starts_on, Date.parse(r.updated_at)].join('|');
}

const ROW_TEXT = `concat_ws('|', policy_id, holder, premium, status, starts_on, (extract(epoch FROM updated_at) * 1000)::bigint)`;

/** Row count and MD5 of a warehouse table's rows, rendered as rowLine renders the expected ones. */
async function tableChecksum(db, qualifiedTable) {
  const r = await db.query(`SELECT count(*)::int AS rows, md5(coalesce(string_agg(${ROW_TEXT}, E'\\n' ORDER BY policy_id), '')) AS md5 FROM ${qualifiedTable}`);
  return { rows: r.rows[0].rows, md5: r.rows[0].md5 };
}

/** Throws unless `qualifiedTable` holds exactly the `expected` rows; the message shows the first rows that differ. */
async function verifyTable(db, qualifiedTable, expected, who) {
  const got = await tableChecksum(db, qualifiedTable);
  if (got.rows === expected.rows && got.md5 === expected.md5) return got;
  const r = await db.query(`SELECT policy_id, ${ROW_TEXT} AS line FROM ${qualifiedTable}`);
  const actual = new Map(r.rows.map((row) => [Number(row.policy_id), row.line]));
  const diffs = [];
  for (const k of new Set([...expected.lines.keys(), ...actual.keys()])) {
    if (expected.lines.get(k) !== actual.get(k))
      diffs.push(`  key ${k}: expected ${expected.lines.get(k) ?? '(no row)'}, found ${actual.get(k) ?? '(no row)'}`);
  }
  throw new Error(
    `${who}: ${qualifiedTable} holds ${got.rows} rows (md5 ${got.md5}), expected ${expected.rows} rows (md5 ${expected.md5}); ` +
      `${diffs.length} rows differ:\n${diffs.slice(0, 10).join('\n')}`,
  );
}

/** A change in Tideway's envelope, as `tideway cdc` writes it. */
function tidewayRecord(topic, c) {
  const value = {
    before: c.op === 'c' ? null : { policy_id: c.key },
    after: c.row,
    op: c.op,
    ts_ms: c.tsMs,
    source: {
      version: 'bench',
      connector: 'postgresql',
      name: 'tideway',
      db: 'app',
      schema: 'public',
      table: TABLE,
      lsn: c.lsn,
      txId: c.lsn,
      ts_ms: c.tsMs,
      snapshot: 'false',
    },
  };
  return { topic, partition: c.partition, key: JSON.stringify({ policy_id: c.key }), value: JSON.stringify(value), headers: { [COLUMNS_HEADER]: COLUMNS } };
}

// Debezium's PostgreSQL connector's schemas for the same table (time.precision.mode=adaptive,
// decimal.handling.mode=precise), as JsonConverter writes them with schemas.enable=true.
const DBZ_NAME = 'tideway.public.policies';
const keySchema = { type: 'struct', name: `${DBZ_NAME}.Key`, optional: false, fields: [{ field: 'policy_id', type: 'int64', optional: false }] };
const rowFields = [
  { field: 'policy_id', type: 'int64', optional: false },
  { field: 'holder', type: 'string', optional: true },
  {
    field: 'premium',
    type: 'bytes',
    optional: true,
    name: 'org.apache.kafka.connect.data.Decimal',
    version: 1,
    parameters: { scale: '2', 'connect.decimal.precision': '12' },
  },
  { field: 'status', type: 'string', optional: true },
  { field: 'starts_on', type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1 },
  { field: 'updated_at', type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1 },
];
const rowSchema = (field) => ({ type: 'struct', name: `${DBZ_NAME}.Value`, optional: true, field, fields: rowFields });
const valueSchema = {
  type: 'struct',
  name: `${DBZ_NAME}.Envelope`,
  version: 2,
  optional: false,
  fields: [
    rowSchema('before'),
    rowSchema('after'),
    {
      type: 'struct',
      name: 'io.debezium.connector.postgresql.Source',
      optional: false,
      field: 'source',
      fields: [
        { field: 'version', type: 'string', optional: false },
        { field: 'connector', type: 'string', optional: false },
        { field: 'name', type: 'string', optional: false },
        { field: 'ts_ms', type: 'int64', optional: false },
        { field: 'db', type: 'string', optional: false },
        { field: 'schema', type: 'string', optional: false },
        { field: 'table', type: 'string', optional: false },
        { field: 'txId', type: 'int64', optional: true },
        { field: 'lsn', type: 'int64', optional: true },
      ],
    },
    { field: 'op', type: 'string', optional: false },
    { field: 'ts_ms', type: 'int64', optional: true },
  ],
};
const keySchemaText = JSON.stringify(keySchema);
const valueSchemaText = JSON.stringify(valueSchema);
const DAY_MS = 86_400_000;

/** A Connect Decimal's value: the unscaled integer, big-endian two's complement, base64. */
function decimalBase64(text, scale) {
  const [whole, frac = ''] = text.split('.');
  let n = BigInt(whole + frac.padEnd(scale, '0').slice(0, scale));
  const bytes = [];
  for (;;) {
    bytes.unshift(Number(n & 0xffn));
    const rest = n >> 8n;
    if ((rest === 0n && (bytes[0] & 0x80) === 0) || (rest === -1n && (bytes[0] & 0x80) !== 0)) break;
    n = rest;
  }
  return Buffer.from(bytes).toString('base64');
}

function dbzRow(r) {
  return {
    policy_id: r.policy_id,
    holder: r.holder,
    premium: decimalBase64(r.premium, 2),
    status: r.status,
    starts_on: Math.floor(Date.parse(r.starts_on) / DAY_MS),
    updated_at: r.updated_at,
  };
}

/** The same change as a Debezium change event (key and value with their JSON schemas). */
function debeziumRecord(topic, c) {
  const before = c.op === 'd' ? { policy_id: c.key, holder: null, premium: null, status: null, starts_on: null, updated_at: null } : null;
  const payload = {
    before,
    after: c.row ? dbzRow(c.row) : null,
    source: {
      version: '3.6.0.Final',
      connector: 'postgresql',
      name: 'tideway',
      ts_ms: c.tsMs,
      db: 'app',
      schema: 'public',
      table: TABLE,
      txId: c.lsn,
      lsn: c.lsn,
    },
    op: c.op,
    ts_ms: c.tsMs,
  };
  return {
    topic,
    partition: c.partition,
    key: `{"schema":${keySchemaText},"payload":${JSON.stringify({ policy_id: c.key })}}`,
    value: `{"schema":${valueSchemaText},"payload":${JSON.stringify(payload)}}`,
  };
}

/** Sends `records` in awaited batches of up to 2,000 records and 900 KB (under the broker's message size per partition). */
async function produceAll(producer, records) {
  let batch = [];
  let bytes = 0;
  for (const r of records) {
    batch.push(r);
    bytes += r.key.length + r.value.length;
    if (batch.length === 2000 || bytes > 900_000) {
      await producer.send(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) await producer.send(batch);
}

/**
 * Produces at a fixed rate for `seconds`: every `tickMs`, `batch(tick, size)` records (size = rate ×
 * tick). One send at a time, so every partition keeps the order the changes were made in (two
 * sends in flight at once may be written in either order): the ticks made while a send is in
 * flight go out together in the next one (up to 900 KB). `onAck(tick, reports, ackedAt)` once Kafka has
 * acknowledged a tick's records. Resolves once every send is acknowledged: { produced, elapsed }.
 */
async function produceAtRate(producer, { rate, seconds, tickMs = 20, batch, onAck }) {
  const size = Math.max(1, Math.round((rate * tickMs) / 1000));
  const queue = []; // { tick, records } not sent yet
  let sending = Promise.resolve();
  let busy = false;
  let failed;
  const sendQueued = async () => {
    busy = true;
    while (queue.length > 0) {
      // Up to 900 KB a send (under the broker's message size per partition).
      let n = 0;
      for (let bytes = 0; n < queue.length && (n === 0 || bytes + queue[n].bytes <= 900_000); n++) bytes += queue[n].bytes;
      const ticks = queue.splice(0, n);
      const reports = await producer.send(ticks.flatMap((t) => t.records));
      const at = Date.now();
      for (const t of ticks) onAck(t.tick, reports, at);
    }
    busy = false;
  };
  let produced = 0;
  const start = Date.now();
  const end = start + seconds * 1000;
  for (let tick = 0; Date.now() < end;) {
    const records = batch(tick, size);
    produced += records.length;
    queue.push({ tick, records, bytes: records.reduce((n, r) => n + r.key.length + r.value.length, 0) });
    if (!busy) sending = sendQueued().catch((err) => (failed = err));
    tick += 1;
    const wait = start + tick * tickMs - Date.now();
    if (wait > 0) await kit.sleep(wait);
  }
  const elapsed = (Date.now() - start) / 1000;
  await sending;
  if (failed) throw failed;
  return { produced, elapsed };
}

module.exports = { KEYS, TABLE, TABLE_DDL, createWorkload, tableChecksum, verifyTable, tidewayRecord, debeziumRecord, produceAll, produceAtRate };
