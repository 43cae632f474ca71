/**
 * Against a PostgreSQL whose wal_level is not logical, `tideway cdc` exits 2 with one line
 * saying what to set. The shared instance must stay logical, so this test runs its own
 * throwaway cluster (the real server binaries, wal_level=replica) on a free 127.0.0.1 port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, runTidewaySync } from '../../../test-support/tideway-process';

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

describe('tideway cdc and wal_level', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    const bin = pgBinDir();
    dir = mkdtempSync(join(tmpdir(), 'tideway-cdc-wal-'));
    chmodSync(dir, 0o777);
    const data = join(dir, 'data');
    const [initCmd, initArgs] = asPgUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-instructions']);
    const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    port = await freePort();
    const [cmd, args] = asPgUser(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'wal_level=replica']);
    server = spawn(cmd, args, { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      const c = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      try {
        await c.connect();
        await c.end();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGINT'); // fast shutdown
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 with one line telling the operator to set wal_level = logical', () => {
    const r = runTidewaySync(['cdc'], { CDC_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`, CDC_SLOT: 'never_created', METRICS_PORT: '0', LOG_LEVEL: 'silent' }, 60_000);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tideway cdc: .*wal_level is "replica".*wal_level = logical/);
  });
});
