/**
 * End to end on the real stack: PostgreSQL `app` → `tideway cdc` → Kafka → `tideway dwh-loader`
 * → `warehouse`. A mixed workload (snapshot rows, inserts, updates that leave a TOASTed column
 * unchanged, deletes, a column added mid-stream) runs in the source while the loader is killed
 * with SIGKILL once and restarted; the source and warehouse tables must then be equal row for
 * row, every column compared in its text form.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { TidewayProcess } from '../../../test-support/tideway-process';
import { dropSchema, eventually, suffix, TopicScope, warehouseClient, WAREHOUSE_URL } from './harness';

jest.setTimeout(600_000);

const SOURCE_URL = process.env.CDC_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/app';
const COLUMNS = ['id', 'name', 'premium', 'active', 'created', 'day', 'tags', 'meta', 'blob', 'notes', 'score'];

describe('app → tideway cdc → Kafka → tideway dwh-loader → warehouse', () => {
  const id = suffix();
  const table = `dwh_e2e_${id}`;
  const slot = `dwh_e2e_slot_${id}`;
  const publication = `dwh_e2e_pub_${id}`;
  const schema = `dwh_e2e_${id}`;
  const topic = `${table}.changes`;
  const topics = new TopicScope();
  let source: Client;
  let wh: Client;
  const procs: TidewayProcess[] = [];

  beforeAll(async () => {
    const build = spawnSync(
      process.execPath,
      [join(__dirname, '../../../node_modules/typescript/bin/tsc'), '-b', join(__dirname, '..'), join(__dirname, '../../cdc')],
      { encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    source = new Client({ connectionString: SOURCE_URL });
    source.on('error', () => undefined);
    await source.connect();
    wh = await warehouseClient();
    await topics.open();
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    // The slot pins WAL on the shared server: always drop it (once its walsender is gone).
    for (let i = 0; i < 50; i++) {
      const r = await source.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (r.rows.length === 0) break;
      if (r.rows[0].active_pid) await source.query('SELECT pg_terminate_backend($1)', [r.rows[0].active_pid]);
      const dropped = await source.query('SELECT pg_drop_replication_slot($1)', [slot]).then(
        () => true,
        () => false,
      );
      if (dropped) break;
      await new Promise((r2) => setTimeout(r2, 200));
    }
    await source.query(`DROP PUBLICATION IF EXISTS "${publication}"`);
    await source.query(`DROP TABLE IF EXISTS public."${table}"`);
    await source.query(`DELETE FROM public.tideway_cdc_state WHERE slot_name = $1`, [slot]).catch(() => undefined);
    await source.end();
    await dropSchema(schema);
    await wh.end();
    const existing = new Set(await topics.admin.listTopics());
    await topics.admin.deleteTopics([topic, `${topic}.dlq`].filter((t) => existing.has(t))).catch(() => undefined);
    await topics.close();
  });

  /** Every column as text, in one time zone, ordered by id: equal output means equal tables. */
  async function snapshot(c: Client, qualifiedTable: string, columns: string[]): Promise<string[][]> {
    await c.query(`SET TimeZone = 'UTC'`);
    const r = await c.query({ text: `SELECT ${columns.map((col) => `"${col}"::text`).join(', ')} FROM ${qualifiedTable} ORDER BY id`, rowMode: 'array' });
    return r.rows as string[][];
  }

  it('ends with the warehouse table equal to the source table', async () => {
    await source.query(`CREATE TABLE public."${table}" (
      id bigint PRIMARY KEY, name text NOT NULL, premium numeric(12,2), active boolean, created timestamptz, day date,
      tags text[], meta jsonb, blob bytea, notes text, score double precision)`);
    // Stored out of line without compression once over ~2 kB, so updates that do not touch it
    // make pgoutput send the unchanged-TOAST marker.
    await source.query(`ALTER TABLE public."${table}" ALTER COLUMN notes SET STORAGE EXTERNAL`);
    const big = `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 100))`;
    // Snapshot rows (op r), present before cdc starts.
    await source.query(
      `INSERT INTO public."${table}" SELECT g, 'holder ' || g, g * 1.25, g % 2 = 0, '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 hour',
         '2024-01-01'::date + g, ARRAY['a' || g, 'b,"q"'], jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x')), decode(lpad(to_hex(g), 8, '0'), 'hex'),
         CASE WHEN g % 10 = 0 THEN ${big} || g ELSE 'short ' || g END, g / 3.0
       FROM generate_series(1, 300) g`,
    );

    const cdc = await TidewayProcess.start('cdc', {
      CDC_DATABASE_URL: SOURCE_URL,
      CDC_TABLES: `public.${table}`,
      CDC_SLOT: slot,
      CDC_PUBLICATION: publication,
      CDC_HEARTBEAT_MS: '1000',
      CDC_TOPIC_PARTITIONS: '3',
      LOG_LEVEL: 'warn',
    });
    procs.push(cdc);
    await cdc.waitReady();
    const loaderEnv = {
      DWH_TOPICS: topic,
      DWH_SCHEMA: schema,
      DWH_GROUP_ID: `${schema}-group`,
      DWH_DATABASE_URL: WAREHOUSE_URL,
      DWH_BATCH_MAX_ROWS: '100',
      DWH_SESSION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'warn',
    };
    await eventually(
      async () => (await topics.admin.listTopics()).includes(topic),
      () => `topic ${topic} not created by cdc:\n${cdc.logs(20)}`,
      120_000,
    );
    let loader = await TidewayProcess.start('dwh-loader', loaderEnv);
    procs.push(loader);
    await loader.waitReady();

    // Mixed workload, in many transactions.
    for (let round = 0; round < 20; round++) {
      await source.query('BEGIN');
      const base = 1000 + round * 50;
      await source.query(
        `INSERT INTO public."${table}" (id, name, premium, active, created, day, tags, meta, blob, notes, score)
         SELECT g, 'new ' || g, g * 0.5, true, now(), current_date, ARRAY['n'], '{"k": 1}', '\\x00ff', CASE WHEN g % 20 = 0 THEN ${big} ELSE 'n' || g END, g * 1.5
         FROM generate_series($1::bigint, $1::bigint + 39) g`,
        [base],
      );
      // Updates leaving `notes` (TOASTed for some rows) untouched: cdc sends the unchanged-TOAST marker.
      await source.query(`UPDATE public."${table}" SET premium = premium + 1, name = name || '+' WHERE id % 7 = $1`, [round % 7]);
      await source.query(`DELETE FROM public."${table}" WHERE id IN (SELECT id FROM public."${table}" WHERE id % 11 = $1 ORDER BY id LIMIT 5)`, [round % 11]);
      await source.query(`UPDATE public."${table}" SET meta = meta || '{"round": ${round}}', tags = tags || 'r${round}'::text WHERE id BETWEEN $1 AND $1 + 9`, [
        base,
      ]);
      await source.query('COMMIT');
      if (round === 8) {
        // SIGKILL the loader in the middle of the stream, then start it again.
        await loader.kill();
        loader = await TidewayProcess.start('dwh-loader', loaderEnv);
        procs.push(loader);
        await loader.waitReady();
      }
      if (round === 12) {
        await source.query(`ALTER TABLE public."${table}" ADD COLUMN region varchar(20)`);
        await source.query(`UPDATE public."${table}" SET region = 'r' || (id % 5) WHERE id % 3 = 0`);
      }
    }
    await source.query(`INSERT INTO public."${table}" (id, name, region) VALUES (999999, 'last', 'end')`);

    const columns = [...COLUMNS, 'region'];
    const src = await snapshot(source, `public."${table}"`, columns);
    await eventually(
      async () => {
        const got = await snapshot(wh, `"${schema}"."${table}"`, columns).catch(() => []);
        return got.length === src.length && JSON.stringify(got) === JSON.stringify(src);
      },
      async () => {
        const got = await snapshot(wh, `"${schema}"."${table}"`, columns).catch((e) => [[String(e)]]);
        const firstDiff = src.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(got[i]));
        return `warehouse ${got.length} rows, source ${src.length}; first difference at ${firstDiff}: source ${JSON.stringify(src[firstDiff])?.slice(0, 400)} warehouse ${JSON.stringify(got[firstDiff])?.slice(0, 400)}\n${loader.logs(20)}\n${cdc.logs(20)}`;
      },
      240_000,
    );
    expect(src.length).toBeGreaterThan(300);
    const dlq = await topics.admin.endOffsets(`${topic}.dlq`).catch(() => []);
    expect(dlq.reduce((a, p) => a + Number(p.offset), 0)).toBe(0);
    expect(await loader.stop()).toBe(0);
    expect(await cdc.stop()).toBe(0);
  });
});
