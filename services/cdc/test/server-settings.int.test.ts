/**
 * Server settings the shared instance must not have: a PostgreSQL with wal_level=replica (the
 * service exits 2 with one line saying what to set) and one with a tiny max_slot_wal_keep_size
 * that invalidates the service's slot (the service stops with STATE_LOST and the way out, never
 * recreating the slot). Each runs a throwaway cluster (the real server binaries) on a free
 * 127.0.0.1 port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../../test-support/free-port';
import { runTidewaySync, TidewayProcess } from '../../../test-support/tideway-process';
import { testKafka } from '../../../test-support/kafka';
import { uniqueSuffix } from '../../../test-support/stack';

jest.setTimeout(120_000);

function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  throw new Error('PostgreSQL server binaries (initdb) not found under /usr/lib/postgresql');
}

/** initdb and postgres refuse to run as root: drop to the postgres user when we are root. */
function asPgUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]];
}

interface ThrowawayCluster {
  port: number;
  url: string;
  stop(): Promise<void>;
}

async function startCluster(settings: string[]): Promise<ThrowawayCluster> {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tideway-cdc-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const [initCmd, initArgs] = asPgUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-instructions']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [cmd, args] = asPgUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    ...settings.flatMap((s) => ['-c', s]),
  ]);
  const server: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    port,
    url,
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGINT'); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('tideway cdc and wal_level', () => {
  let cluster: ThrowawayCluster | undefined;

  beforeAll(async () => {
    cluster = await startCluster(['wal_level=replica']);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('exits 2 with one line telling the operator to set wal_level = logical', () => {
    const r = runTidewaySync(['cdc'], { CDC_DATABASE_URL: cluster!.url, CDC_SLOT: 'never_created', METRICS_PORT: '0', LOG_LEVEL: 'silent' }, 60_000);
    expect(r.status).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.includes('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tideway cdc: .*wal_level is "replica".*wal_level = logical/);
  });
});

describe('tideway cdc and a slot the server invalidated', () => {
  const table = `cdc_inval_${uniqueSuffix()}`;
  let cluster: ThrowawayCluster | undefined;
  let cdc: TidewayProcess | undefined;

  beforeAll(async () => {
    cluster = await startCluster(['wal_level=logical', 'max_slot_wal_keep_size=1MB', 'max_wal_size=64MB', 'min_wal_size=32MB']);
  });

  afterAll(async () => {
    await cdc?.kill();
    await cluster?.stop(); // the slot goes with the cluster
    const admin = testKafka().admin();
    await admin.connect();
    await admin.deleteTopics([`${table}.changes`]).catch(() => undefined);
    await admin.disconnect();
  });

  it('stops with STATE_LOST and the re-snapshot advice instead of recreating the slot', async () => {
    const env = { CDC_DATABASE_URL: cluster!.url, CDC_TABLES: `public.${table}`, CDC_SLOT: 'tideway', KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const db = new Client({ connectionString: cluster!.url });
    await db.connect();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, pad text)`);
    cdc = await TidewayProcess.start('cdc', env);
    await cdc.waitReady();
    expect(await cdc.stop()).toBe(0);

    // While the service is down, more WAL than max_slot_wal_keep_size: checkpoints invalidate the slot.
    let status = '';
    for (let round = 0; round < 20 && status !== 'lost'; round++) {
      await db.query(`INSERT INTO ${table} SELECT g, repeat('x', 200) FROM generate_series($1::int, $1::int + 49999) g`, [round * 50_000]);
      await db.query('SELECT pg_switch_wal()');
      await db.query('CHECKPOINT');
      status =
        (await db.query<{ wal_status: string }>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tideway'")).rows[0]?.wal_status ?? 'gone';
    }
    expect(status).toBe('lost');

    cdc = await TidewayProcess.start('cdc', env);
    expect(await cdc.exited()).toBe(1);
    expect(cdc.logs()).toMatch(/replication slot \\?"tideway\\?" was invalidated by the server/);
    expect(cdc.logs()).toMatch(/pg_drop_replication_slot\('tideway'\); DELETE FROM public\.tideway_cdc_state WHERE slot_name = 'tideway'/);
    cdc = undefined;
    // Not recreated behind the operator's back.
    expect((await db.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tideway'")).rows).toEqual([{ wal_status: 'lost' }]);
    await db.end();
  });
});
