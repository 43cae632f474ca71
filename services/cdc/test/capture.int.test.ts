/**
 * `tideway cdc` as a child process against the real PostgreSQL and Kafka: every kind of change,
 * every type, schema change, reconnect, heartbeat, and a snapshot with writes during it.
 */
import { COLUMNS_HEADER, UNAVAILABLE_VALUE, parseColumnsHeader, type IncomingMessage } from '@tideway/runtime';
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { uniqueSuffix } from '../../../test-support/stack';
import { waitFor } from '../../../test-support/wait';
import { metricValue } from '../../../test-support/metrics';
import { keyPartition } from '@tideway/runtime';
import { cleanup, json, names, pg, readTopic, startCdc } from './cdc-test-support';

jest.setTimeout(240_000);

function byKey(messages: IncomingMessage[]): Map<string, IncomingMessage[]> {
  const out = new Map<string, IncomingMessage[]>();
  for (const m of messages) {
    const k = m.key?.toString() ?? 'null';
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(m);
  }
  return out;
}

/**
 * Drops replays: after the test cuts the replication connection, the server may resend the last
 * transactions (at least once). An event seen before (same op at the same LSN) is a replay, and so
 * is a tombstone right after a replayed delete.
 */
function distinct(messages: IncomingMessage[] | undefined): IncomingMessage[] {
  const seen = new Set<string>();
  const out: IncomingMessage[] = [];
  let lastKept = true;
  for (const m of messages ?? []) {
    if (!m.value) {
      if (lastKept) out.push(m);
      continue;
    }
    const ev = json(m)!;
    const id = `${ev.op}@${(ev.source as { lsn: number }).lsn}`;
    lastKept = !seen.has(id);
    if (lastKept) {
      seen.add(id);
      out.push(m);
    }
  }
  return out;
}

function ops(messages: IncomingMessage[] | undefined): string[] {
  return distinct(messages).map((m) => (m.value ? String(json(m)!.op) : 'tombstone'));
}

describe('tideway cdc streaming', () => {
  const id = uniqueSuffix();
  const n = names(id);
  const types = `cdc_types_${id}`;
  const full = `cdc_full_${id}`;
  const other = `cdc_other_${id}`;
  const keyless = `cdc_keyless_${id}`;
  let cdc: TidewayProcess | undefined;

  afterAll(async () => {
    await cdc?.kill();
    await cleanup(n, [types, full, other, keyless], [`${types}.changes`, `${full}.changes`, `${keyless}.changes`]);
  });

  it('captures every change kind and type, survives a lost connection, follows ADD COLUMN and keeps the slot moving', async () => {
    const db = await pg();
    try {
      await db.query(`CREATE TABLE ${types} (
        id bigint PRIMARY KEY, n numeric(30,10), i int, big bigint, f double precision, b boolean,
        ts timestamptz, tsn timestamp, d date, j json, jb jsonb, by bytea, ia int[], ta text[], na numeric[],
        u uuid, iv interval, p point, big_text text)`);
      await db.query(`CREATE TABLE ${full} (id int PRIMARY KEY, v text)`);
      await db.query(`ALTER TABLE ${full} REPLICA IDENTITY FULL`);
      await db.query(`CREATE TABLE ${other} (id serial PRIMARY KEY, v text)`);
      await db.query(`CREATE TABLE ${keyless} (a int, b text)`);
      await db.query(`ALTER TABLE ${keyless} REPLICA IDENTITY FULL`);
      await db.query(`INSERT INTO ${types} (id, n, i) VALUES (100, 1.5, 1)`); // snapshot row

      cdc = await startCdc(n, [`public.${types}`, `public.${full}`, `public.${keyless}`]);
      await cdc.waitReady();

      await db.query(
        `INSERT INTO ${types} VALUES (1, 12345678901234567890.0123456789, -7, 9223372036854775807, 1.25, true,
          '2024-03-01 12:34:56.123456+02', '2024-03-01 12:34:56.5', '2024-02-29', '{"a": [1, 2.50]}', '{"b": null}',
          '\\xdeadbeef', '{1,NULL,3}', '{"x y","q\\"z"}', '{1.10,2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 2 hours',
          '(1,2)', (SELECT string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 400) g))`,
      );
      await db.query(`UPDATE ${types} SET i = 2 WHERE id = 1`); // big_text is TOASTed and unchanged
      await db.query(`INSERT INTO ${full} VALUES (1, 'a')`);
      await db.query(`UPDATE ${full} SET v = 'b' WHERE id = 1`);
      await db.query(`UPDATE ${types} SET id = 2 WHERE id = 1`); // primary-key change
      await db.query(`DELETE FROM ${types} WHERE id = 2`);
      await db.query(`UPDATE ${types} SET i = 3 WHERE id = 100`);
      await db.query(`INSERT INTO ${keyless} VALUES (1, 'x'), (1, 'x')`);
      await db.query(`DELETE FROM ${keyless} WHERE ctid = (SELECT min(ctid) FROM ${keyless})`);

      // Lose the replication connection: the service must reconnect and resume from the slot.
      const pid = await db.query<{ active_pid: number }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [n.slot]);
      await db.query('SELECT pg_terminate_backend($1)', [pid.rows[0].active_pid]);
      await db.query(`ALTER TABLE ${full} ADD COLUMN extra int DEFAULT 7`);
      await db.query(`INSERT INTO ${full} VALUES (2, 'c', 8)`);
      await db.query(`TRUNCATE ${full}`);

      // Heartbeat: only an uncaptured table is written; the slot must still move past it.
      await db.query(`INSERT INTO ${other} (v) SELECT 'x' FROM generate_series(1, 1000)`);
      const walAfter = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
      await waitFor(
        async () => {
          const r = await db.query<{ ok: boolean }>('SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [
            n.slot,
            walAfter,
          ]);
          return r.rows[0]?.ok === true;
        },
        { what: 'the slot to confirm past quiet-table WAL', timeoutMs: 90_000, intervalMs: 250 },
      );
    } finally {
      await db.end();
    }

    const counts = (all: IncomingMessage[], want: Record<string, number>) => {
      const g = byKey(all);
      return Object.entries(want).every(([key, count]) => ops(g.get(key)).length >= count);
    };
    const typeMsgs = await readTopic(`${types}.changes`, (all) => counts(all, { '{"id":100}': 2, '{"id":1}': 4, '{"id":2}': 3 }));
    const k = new Map([...byKey(typeMsgs)].map(([key, msgs]) => [key, distinct(msgs)]));
    expect(ops(k.get('{"id":100}'))).toEqual(['r', 'u']);
    expect(ops(k.get('{"id":1}'))).toEqual(['c', 'u', 'd', 'tombstone']);
    expect(ops(k.get('{"id":2}'))).toEqual(['c', 'd', 'tombstone']);

    const [created, updated, pkDelete] = k.get('{"id":1}')!.map(json);
    const after = created!.after as Record<string, unknown>;
    expect(after).toMatchObject({
      id: 1,
      n: '12345678901234567890.0123456789',
      i: -7,
      big: '9223372036854775807',
      f: 1.25,
      b: true,
      ts: '2024-03-01T10:34:56.123456Z',
      tsn: '2024-03-01T12:34:56.5Z',
      d: '2024-02-29',
      j: { a: [1, 2.5] },
      jb: { b: null },
      by: Buffer.from('deadbeef', 'hex').toString('base64'),
      ia: [1, null, 3],
      ta: ['x y', 'q"z'],
      na: ['1.10', '2'],
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      iv: 'P1DT2H',
      p: '(1,2)',
    });
    expect(String(after.big_text)).toHaveLength(400 * 32);
    expect(created!.source).toMatchObject({ connector: 'tideway', db: 'app', schema: 'public', table: types, snapshot: 'false' });
    expect(typeof (created!.source as { txId: unknown }).txId).toBe('number');
    // Unchanged TOAST is marked, never passed off as null; without REPLICA IDENTITY FULL there is no before.
    expect(updated).toMatchObject({ op: 'u', before: null, after: { i: 2, big_text: UNAVAILABLE_VALUE } });
    expect(pkDelete).toMatchObject({ op: 'd', before: { id: 1 }, after: null });
    expect(json(k.get('{"id":2}')![0])!.after).toMatchObject({ id: 2, i: 2 });

    const header = parseColumnsHeader(typeMsgs[0].headers[COLUMNS_HEADER]);
    expect(header).toEqual(
      expect.arrayContaining([
        { name: 'id', type: 'bigint', key: true },
        { name: 'n', type: 'numeric(30,10)', key: false },
        { name: 'ts', type: 'timestamp with time zone', key: false },
        { name: 'ta', type: 'text[]', key: false },
      ]),
    );

    // Same key, same partition, as Kafka's Java client would choose.
    for (const m of typeMsgs) if (m.key) expect(m.partition).toBe(keyPartition(m.key, 3));

    const fullMsgs = await readTopic(`${full}.changes`, (all) => counts(all, { '{"id":1}': 2, '{"id":2}': 1, null: 1 }));
    const fk = new Map([...byKey(fullMsgs)].map(([key, msgs]) => [key, distinct(msgs)]));
    const fullOne = fk.get('{"id":1}')!.map(json);
    expect(fullOne.map((e) => e!.op)).toEqual(['c', 'u']);
    expect(fullOne[1]).toMatchObject({ before: { id: 1, v: 'a' }, after: { id: 1, v: 'b' } });
    const added = json(fk.get('{"id":2}')![0])!;
    expect(added.after).toEqual({ id: 2, v: 'c', extra: 8 });
    expect(parseColumnsHeader(fk.get('{"id":2}')![0].headers[COLUMNS_HEADER])!.map((c) => c.name)).toEqual(['id', 'v', 'extra']);
    expect(json(fk.get('null')!.at(-1)!)).toMatchObject({ op: 't', before: null, after: null });

    // No primary key: one warning, null keys, the full old row in the delete.
    // Null keys spread over partitions: order by WAL position to compare.
    const lsnOf = (m: IncomingMessage) => (json(m)!.source as { lsn: number }).lsn;
    const keylessMsgs = distinct(await readTopic(`${keyless}.changes`, (all) => distinct(all).length >= 3)).sort((a, b) => lsnOf(a) - lsnOf(b));
    expect(keylessMsgs.map((m) => [m.key, json(m)!.op])).toEqual([
      [null, 'c'],
      [null, 'c'],
      [null, 'd'],
    ]);
    expect(json(keylessMsgs[2])!.before).toEqual({ a: 1, b: 'x' });
    const logs = cdc!.output.join('');
    expect(logs.match(new RegExp(`"table":"public.${keyless}"[^\n]*has no primary key`, 'g'))).toHaveLength(1);
    // Unknown type (point): text fallback, logged once for the column however many rows carried it.
    expect(logs.match(new RegExp(`"column":"p"[^\n]*no dedicated decoder`, 'g'))).toHaveLength(1);

    const metrics = await cdc!.metrics();
    // Two creates, plus any replayed after the cut connection (at least once).
    const creates = new RegExp(`tideway_cdc_events_total\\{table="public.${types}",op="c",service="cdc"\\} (\\d+)`).exec(metrics);
    expect(Number(creates?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/tideway_cdc_reconnects_total\{cause="postgres",service="cdc"\} [1-9]/);
    expect(metrics).toMatch(new RegExp(`tideway_cdc_snapshot_rows_total\\{table="public.${types}",service="cdc"\\} 1`));
    expect(await cdc!.stop()).toBe(0);
    cdc = undefined;
  });
});

describe('tideway cdc snapshot', () => {
  const id = uniqueSuffix();
  const n = names(id);
  const table = `cdc_snap_${id}`;
  let cdc: TidewayProcess | undefined;

  afterAll(async () => {
    await cdc?.kill();
    await cleanup(n, [table], [`${table}.changes`]);
  });

  it('emits existing rows then the stream with nothing lost or doubled, while writes commit during the snapshot', async () => {
    const rows = 20_000;
    const db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, version int NOT NULL, pad text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 1, repeat('p', 100) FROM generate_series(1, ${rows}) g`);
    // A slow snapshot (tiny fetches, tiny Kafka buffer) so that writes land while it runs.
    cdc = await startCdc(n, [`public.${table}`], { CDC_SNAPSHOT_FETCH_ROWS: '20', CDC_MAX_BUFFERED_RECORDS: '40', CDC_BATCH_MAX_RECORDS: '20' });
    const snapshotRunning = async () => metricValue(await cdc!.metrics().catch(() => ''), 'tideway_cdc_snapshot_running') === 1;
    await waitFor(snapshotRunning, { what: 'the snapshot to start', timeoutMs: 90_000, intervalMs: 250 });

    let duringSnapshot = 0;
    let nextId = rows + 1;
    let writes = 0;
    const writeOnce = async () => {
      const r = writes++ % 4;
      const target = 1 + Math.floor(Math.random() * rows);
      if (r === 0) await db.query(`INSERT INTO ${table} VALUES ($1, 1, 'n')`, [nextId++]);
      else if (r === 3) await db.query(`DELETE FROM ${table} WHERE id = $1`, [target]);
      else await db.query(`UPDATE ${table} SET version = version + 1 WHERE id = $1`, [target]);
    };
    while (await snapshotRunning()) {
      await writeOnce();
      if (await snapshotRunning()) duringSnapshot++;
    }
    await cdc.waitReady();
    for (let i = 0; i < 200; i++) await writeOnce();
    expect(duringSnapshot).toBeGreaterThan(0);

    const finalRows = new Map<number, number>();
    for (const r of (await db.query<{ id: number; version: number }>(`SELECT id, version FROM ${table}`)).rows) finalRows.set(r.id, r.version);
    await db.end();

    // Replay the topic like a consumer would and compare with the table.
    const state = new Map<number, number>();
    const seen = new Map<number, number[]>();
    const apply = (m: IncomingMessage) => {
      const ev = json(m);
      if (!ev) return;
      const row = (ev.after ?? ev.before) as { id: number; version?: number };
      if (ev.op === 'd') state.delete(row.id);
      else state.set(row.id, row.version!);
      if (ev.op !== 'd') seen.set(row.id, [...(seen.get(row.id) ?? []), row.version!]);
    };
    const matches = () => state.size === finalRows.size && [...finalRows].every(([k, v]) => state.get(k) === v);
    const all = await readTopic(`${table}.changes`, (msgs) => {
      state.clear();
      seen.clear();
      for (const m of msgs) apply(m);
      return matches();
    });
    expect(matches()).toBe(true);
    // Exactly once without crashes: each key's versions go 1, 2, 3, ... with no repeat and no gap.
    for (const [key, versions] of seen) {
      const expected = versions.map((_, i) => versions[0] + i);
      if (JSON.stringify(versions) !== JSON.stringify(expected)) throw new Error(`key ${key}: versions ${versions.join(',')}`);
    }
    const snapshotEvents = all.filter((m) => m.value && json(m)!.op === 'r');
    expect(snapshotEvents.length).toBeGreaterThan(0);
    expect(snapshotEvents.filter((m) => (json(m)!.source as { snapshot: string }).snapshot === 'last')).toHaveLength(1);
    expect(await cdc.stop()).toBe(0);
    cdc = undefined;
  });
});
