/**
 * `dwh-loader` against the real Kafka and PostgreSQL: upsert with hard and soft deletes,
 * history mode, LSN ordering, unchanged TOAST values, new columns, dead letters for each kind
 * of bad record, and SQL injection through table and column names.
 */
import { DLQ_HEADER, UNAVAILABLE_VALUE, type ColumnInfo } from '@tideway/runtime';
import { readTopicUntil } from '../../../test-support/kafka-read';
import { changeMessage, eventually, loaderSuite, metricValue, startLoader, suffix } from './harness';

jest.setTimeout(120_000);

const COLUMNS: ColumnInfo[] = [
  { name: 'id', type: 'integer', key: true },
  { name: 'name', type: 'text', key: false },
  { name: 'premium', type: 'numeric(12,2)', key: false },
];

describe('dwh-loader on the real stack', () => {
  const suite = loaderSuite();
  const { topics, schemas, loaders } = suite;

  async function setup(env: Record<string, string> = {}) {
    const topic = await topics.topic('dwh-t');
    const schema = `dwh_t_${suffix()}`;
    schemas.push(schema);
    const loader = await startLoader({ DWH_TOPICS: topic, DWH_SCHEMA: schema, DWH_GROUP_ID: `dwh-t-${suffix()}`, DWH_BATCH_MAX_WAIT_MS: '50', ...env });
    loaders.push(loader);
    const stored = async () => {
      const r = await suite.db.query(`SELECT coalesce(sum(next_offset),0)::int AS n FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [{ n: -1 }] }));
      return Number(r.rows[0].n);
    };
    let sent = 0;
    const send = async (...msgs: Parameters<typeof changeMessage>[]) => {
      await topics.producer.send(msgs.map((m) => changeMessage(...m)));
      sent += msgs.length;
    };
    const sendRaw = async (value: string | null, key: string | null = '{"id":1}', headers?: Record<string, string>) => {
      await topics.producer.send([{ topic, key, value, headers }]);
      sent += 1;
    };
    /** Waits until the warehouse offsets cover every record sent so far. */
    const settled = () =>
      eventually(
        async () => (await stored()) === sent,
        async () => `stored offset ${await stored()}, sent ${sent}`,
      );
    const rows = async (table: string, order = 'id') => (await suite.db.query(`SELECT * FROM "${schema}"."${table}" ORDER BY ${order}`)).rows;
    return { topic, schema, loader, send, sendRaw, settled, rows };
  }

  it('upsert + hard delete: inserts, updates, deletes; an older event never overwrites a newer one', async () => {
    const { topic, send, sendRaw, settled, rows, loader } = await setup();
    await send(
      [topic, { id: 1 }, { table: 'policies', op: 'c', after: { id: 1, name: 'a', premium: '10.50' }, lsn: 100 }, COLUMNS],
      [topic, { id: 2 }, { table: 'policies', op: 'c', after: { id: 2, name: 'b', premium: '20.00' }, lsn: 200 }, COLUMNS],
      [topic, { id: 1 }, { table: 'policies', op: 'u', before: { id: 1 }, after: { id: 1, name: 'a2', premium: '11.00' }, lsn: 300 }, COLUMNS],
      [topic, { id: 2 }, { table: 'policies', op: 'd', before: { id: 2 }, lsn: 400 }, COLUMNS],
      [topic, { id: 3 }, { table: 'policies', op: 'r', after: { id: 3, name: 'c', premium: null }, lsn: 50 }, COLUMNS],
    );
    await sendRaw(null, '{"id":2}'); // the tombstone after a delete
    await settled();
    expect(await rows('policies')).toEqual([
      expect.objectContaining({ id: 1, name: 'a2', premium: '11.00', _tideway_lsn: '300', _tideway_op: 'u' }),
      expect.objectContaining({ id: 3, name: 'c', premium: null, _tideway_op: 'r' }),
    ]);

    // In a later batch: a stale update (older LSN) for id 1 and a stale re-insert of id 3's old image.
    await send(
      [topic, { id: 1 }, { table: 'policies', op: 'u', after: { id: 1, name: 'stale', premium: '1.00' }, lsn: 250 }, COLUMNS],
      [topic, { id: 3 }, { table: 'policies', op: 'u', after: { id: 3, name: 'c2', premium: '3.00' }, lsn: 60 }, COLUMNS],
      [topic, { id: 3 }, { table: 'policies', op: 'u', after: { id: 3, name: 'c-older', premium: '2.00' }, lsn: 55 }, COLUMNS],
    );
    await settled();
    expect((await rows('policies')).map((r) => [r.id, r.name, r.premium])).toEqual([
      [1, 'a2', '11.00'],
      [3, 'c2', '3.00'],
    ]);
    expect(await metricValue(loader.registry, 'tideway_dwh_rows_applied_total', { table: 'policies', op: 'c' })).toBe(2);
    expect(await metricValue(loader.registry, 'tideway_dlq_records_total')).toBe(0);
  });

  it('upsert + soft delete: a delete sets _deleted and keeps the row; a re-insert clears it', async () => {
    const { topic, send, settled, rows } = await setup({ DWH_DELETE_MODE: 'soft' });
    await send(
      [topic, { id: 1 }, { table: 'policies', op: 'c', after: { id: 1, name: 'a', premium: '1.00' }, lsn: 10 }, COLUMNS],
      [topic, { id: 2 }, { table: 'policies', op: 'c', after: { id: 2, name: 'b', premium: '2.00' }, lsn: 20 }, COLUMNS],
      [topic, { id: 2 }, { table: 'policies', op: 'd', before: { id: 2, name: 'b', premium: '2.00' }, lsn: 30 }, COLUMNS],
      [topic, { id: 9 }, { table: 'policies', op: 'd', before: { id: 9 }, lsn: 35 }, COLUMNS],
    );
    await settled();
    expect((await rows('policies')).map((r) => [r.id, r.name, r._deleted, r._tideway_op])).toEqual([
      [1, 'a', false, 'c'],
      [2, 'b', true, 'd'],
      [9, null, true, 'd'],
    ]);
    // An insert older than the delete does not bring id 9 back; a newer one does.
    await send([topic, { id: 9 }, { table: 'policies', op: 'c', after: { id: 9, name: 'old', premium: '0' }, lsn: 33 }, COLUMNS]);
    await settled();
    expect((await rows('policies')).find((r) => r.id === 9)).toEqual(expect.objectContaining({ _deleted: true, name: null }));
    await send([topic, { id: 9 }, { table: 'policies', op: 'c', after: { id: 9, name: 'new', premium: '9.00' }, lsn: 40 }, COLUMNS]);
    await settled();
    expect((await rows('policies')).find((r) => r.id === 9)).toEqual(expect.objectContaining({ _deleted: false, name: 'new', premium: '9.00' }));
  });

  it('history mode: every change appended once with op, LSN, timestamps and origin', async () => {
    const { topic, send, settled, rows } = await setup({ DWH_MODE: 'history' });
    await send(
      [topic, { id: 1 }, { table: 'policies', op: 'c', after: { id: 1, name: 'a', premium: '1.00' }, lsn: 10, tsMs: 1_700_000_000_000 }, COLUMNS],
      [topic, { id: 1 }, { table: 'policies', op: 'u', after: { id: 1, name: 'b', premium: '1.00' }, lsn: 20 }, COLUMNS],
      [topic, { id: 1 }, { table: 'policies', op: 'd', before: { id: 1, name: 'b', premium: '1.00' }, lsn: 30 }, COLUMNS],
    );
    await settled();
    const got = await rows('policies', '_tideway_offset');
    expect(got.map((r) => [r.id, r.name, r._tideway_op, r._tideway_lsn, r._tideway_offset])).toEqual([
      [1, 'a', 'c', '10', '0'],
      [1, 'b', 'u', '20', '1'],
      [1, 'b', 'd', '30', '2'],
    ]);
    expect(got[0]._tideway_source_ts_ms).toBe('1700000000000');
    expect(Number(got[0]._tideway_event_ts_ms)).toBeGreaterThan(1_700_000_000_000);
  });

  it('keeps the current value for an unchanged-TOAST marker and adds columns that appear mid-stream', async () => {
    const { topic, send, settled, rows, schema } = await setup();
    const cols = [...COLUMNS, { name: 'notes', type: 'text', key: false }];
    await send([topic, { id: 1 }, { table: 'policies', op: 'c', after: { id: 1, name: 'a', premium: '1.00', notes: 'x'.repeat(5000) }, lsn: 10 }, cols]);
    await settled();
    await send(
      [topic, { id: 1 }, { table: 'policies', op: 'u', after: { id: 1, name: 'b', premium: '2.00', notes: UNAVAILABLE_VALUE }, lsn: 20 }, cols],
      [
        topic,
        { id: 2 },
        { table: 'policies', op: 'c', after: { id: 2, name: 'c', premium: '3.00', notes: 'n', email: 'c@example.com' }, lsn: 30 },
        [...cols, { name: 'email', type: 'character varying(120)', key: false }],
      ],
    );
    await settled();
    const got = await rows('policies');
    expect(got[0]).toEqual(expect.objectContaining({ id: 1, name: 'b', premium: '2.00', notes: 'x'.repeat(5000), email: null }));
    expect(got[1]).toEqual(expect.objectContaining({ id: 2, email: 'c@example.com' }));
    const type = await suite.db.query(
      `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '"${schema}".policies'::regclass AND attname = 'email'`,
    );
    expect(type.rows[0].t).toBe('character varying(120)');
  });

  it('starts from the warehouse-stored offsets, not from the Kafka group offsets', async () => {
    const group = `dwh-t-${suffix()}`;
    const { topic, schema, send, settled, rows, loader } = await setup({ DWH_GROUP_ID: group });
    for (let i = 1; i <= 30; i++)
      await send([topic, { id: i }, { table: 'policies', op: 'c', after: { id: i, name: `n${i}`, premium: '1.00' }, lsn: i }, COLUMNS]);
    await settled();
    // The Kafka commit is only a hint, written after the warehouse commit: wait for it to land.
    await eventually(
      async () => (await topics.admin.committedOffsets(group, topic)).some((o) => o.offset === '30'),
      async () => JSON.stringify(await topics.admin.committedOffsets(group, topic)),
    );
    await loader.stop();
    loaders.splice(loaders.indexOf(loader), 1);
    // The warehouse loses everything (restored from an old backup, say); Kafka still says 30.
    await suite.db.query(`DROP SCHEMA "${schema}" CASCADE`);
    const again = await startLoader({ DWH_TOPICS: topic, DWH_SCHEMA: schema, DWH_GROUP_ID: group, DWH_BATCH_MAX_WAIT_MS: '50' });
    loaders.push(again);
    await settled();
    expect((await rows('policies')).map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('dead-letters each kind of bad record with reason and origin, and goes on', async () => {
    const { topic, schema, send, sendRaw, settled, rows, loader } = await setup();
    await suite.db.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await suite.db.query(`CREATE TABLE "${schema}".canary (x int)`);
    const good = (id: number, lsn: number) =>
      [topic, { id }, { table: 'policies', op: 'c', after: { id, name: `n${id}`, premium: '1.00' }, lsn }, COLUMNS] as Parameters<typeof changeMessage>;
    await send(good(1, 10));
    await sendRaw('{not json'); // malformed_json
    await sendRaw('[1,2,3]'); // not_an_envelope
    await sendRaw(JSON.stringify({ op: 'c', after: { id: 5 } })); // missing_field (no source)
    await send([topic, { id: 6 }, { table: 'policies', op: 'c', after: { id: 6, name: 'x', premium: 'not-a-number' }, lsn: 20 }, COLUMNS]); // value_rejected
    await send([topic, { id: 7 }, { table: `policies"; DROP TABLE "${schema}".canary; --`, op: 'c', after: { id: 7 }, lsn: 30 }, COLUMNS]); // invalid_identifier (table)
    await send([topic, { id: 8 }, { table: 'policies', op: 'c', after: { id: 8, 'name" text); DROP TABLE canary; --': 'x' }, lsn: 40 }]); // invalid_identifier (column)
    await send([topic, {}, { table: 'nokey', op: 'c', after: { a: 1 }, lsn: 50 }]); // missing_key
    await send(good(2, 60));
    await settled();

    expect((await rows('policies')).map((r) => r.id)).toEqual([1, 2]);
    expect((await suite.db.query(`SELECT count(*)::int AS n FROM "${schema}".canary`)).rows[0].n).toBe(0); // still there
    const tables = await suite.db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['_tideway_offsets', 'canary', 'policies']);

    const dlq = await readTopicUntil(`${topic}.dlq`, (all) => all.length >= 7, { timeoutMs: 30_000 });
    const byOffset = new Map(dlq.map((m) => [Number(m.headers[DLQ_HEADER.originOffset]!.toString()), m]));
    const reasons = [...byOffset.entries()].sort((a, b) => a[0] - b[0]).map(([off, m]) => [off, m.headers[DLQ_HEADER.reason]!.toString()]);
    expect(reasons).toEqual([
      [1, 'malformed_json'],
      [2, 'not_an_envelope'],
      [3, 'missing_field'],
      [4, 'value_rejected'],
      [5, 'invalid_identifier'],
      [6, 'invalid_identifier'],
      [7, 'missing_key'],
    ]);
    for (const m of dlq) {
      expect(m.headers[DLQ_HEADER.originTopic]!.toString()).toBe(topic);
      expect(m.headers[DLQ_HEADER.originPartition]!.toString()).toBe('0');
      expect(m.headers[DLQ_HEADER.error]!.toString().length).toBeGreaterThan(0);
    }
    expect(byOffset.get(1)!.value!.toString()).toBe('{not json'); // the original record, untouched
    expect(await metricValue(loader.registry, 'tideway_dlq_records_total', { topic })).toBe(7);
    expect(await metricValue(loader.registry, 'tideway_dlq_records_total', { topic, reason: 'invalid_identifier' })).toBe(2);
  });
});
