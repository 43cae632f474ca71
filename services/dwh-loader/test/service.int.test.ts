/**
 * The `tideway dwh-loader` process at its edges: bad configuration exits 2 with one line naming
 * the setting; a warehouse that does not exist is a configuration error too (exit 2), not a
 * retry loop; a warehouse connection lost mid-stream is re-established and nothing is lost.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from 'pg';
import { runTidewaySync } from '../../../test-support/tideway-process';
import { changeMessage, dropSchema, eventually, metricValue, startLoader, suffix, TopicScope, warehouseClient, WAREHOUSE_URL } from './harness';
import { mixedWorkload, sortedRows } from './workload';

jest.setTimeout(240_000);

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(__dirname, '../../../node_modules/typescript/bin/tsc'), '-b', join(__dirname, '..')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
});

describe('tideway dwh-loader configuration', () => {
  it.each([
    [{ DWH_MODE: 'merge' }, /^tideway dwh-loader: invalid configuration: DWH_MODE: must be one of upsert, history, got "merge"\n$/],
    [{ DWH_SCHEMA: 'dwh; drop' }, /^tideway dwh-loader: invalid configuration: DWH_SCHEMA: must be a plain SQL identifier/],
    [{ DWH_DATABASE_URL: 'mysql://x' }, /^tideway dwh-loader: invalid configuration: DWH_DATABASE_URL: must use postgres or postgresql/],
    [{ DWH_BATCH_MAX_ROWS: '0' }, /DWH_BATCH_MAX_ROWS: must be ≥ 1, got 0/],
  ])('exits 2 naming the setting: %j', (env, line) => {
    const r = runTidewaySync(['dwh-loader'], { DWH_DATABASE_URL: WAREHOUSE_URL, METRICS_PORT: '0', ...env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 naming DWH_TOPICS for a bad regex, and DWH_DATABASE_URL for a database that does not exist', () => {
    const bad = runTidewaySync(['dwh-loader'], { DWH_DATABASE_URL: WAREHOUSE_URL, DWH_TOPICS: '/[/', METRICS_PORT: '0' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^tideway dwh-loader: DWH_TOPICS: is not a valid regular expression/);
    const missing = runTidewaySync(['dwh-loader'], { DWH_DATABASE_URL: WAREHOUSE_URL.replace(/\/warehouse$/, `/no_such_db_${suffix()}`), METRICS_PORT: '0' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^tideway dwh-loader: DWH_DATABASE_URL: database "no_such_db_\w+" does not exist/);
    expect(missing.stderr).not.toMatch(/postgres:\/\//); // the URL (a secret) is not printed
  });
});

describe('tideway dwh-loader losing its warehouse connection', () => {
  const topics = new TopicScope();
  let db: Client;
  const schema = `dwh_conn_${suffix()}`;

  beforeAll(async () => {
    await topics.open();
    db = await warehouseClient();
  });
  afterAll(async () => {
    await dropSchema(schema);
    await db.end();
    await topics.close();
  });

  it('reconnects with backoff and applies everything once', async () => {
    const topic = await topics.topic('dwh-conn', 2);
    const group = `${schema}-group`;
    const loader = await startLoader({ DWH_TOPICS: topic, DWH_SCHEMA: schema, DWH_GROUP_ID: group, DWH_BATCH_MAX_ROWS: '100', DWH_RETRY_MAX_MS: '500' });
    try {
      const work = mixedWorkload(topic, 300, 6000, 11);
      const stored = async () =>
        Number(
          (await db.query(`SELECT coalesce(sum(next_offset),0)::int AS n FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n,
        );
      let sent = 0;
      let terminated = 0;
      while (sent < work.messages.length) {
        await topics.producer.send(work.messages.slice(sent, sent + 500));
        sent += 500;
        // Cut every connection the loader has to the warehouse, as a failover or restart would.
        const r = await db.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
          `tideway-dwh-loader:${group}`,
        ]);
        terminated += r.rows[0].n;
        await new Promise((res) => setTimeout(res, 100));
      }
      await topics.producer.send([
        changeMessage(topic, { id: 100000 }, { table: 'policies', op: 'c', after: { id: 100000, holder: 'x', premium: '1.00', version: 1 }, lsn: 10 ** 9 }),
      ]);
      await eventually(
        async () => (await stored()) === sent + 1,
        async () => `stored ${await stored()} of ${sent + 1}`,
        120_000,
      );
      expect(terminated).toBeGreaterThan(0);
      expect(await metricValue(loader.registry, 'tideway_dwh_apply_retries_total')).toBeGreaterThan(0);
      const got = await db.query(`SELECT id, holder, premium::text AS premium, version FROM "${schema}".policies WHERE id < 100000 ORDER BY id`);
      expect(got.rows).toEqual(sortedRows(work.expected));
      expect(loader.failures).toEqual([]);
    } finally {
      await loader.stop();
    }
  });
});
