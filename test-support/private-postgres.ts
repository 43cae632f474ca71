/**
 * A private PostgreSQL for tests that stop and restart the server (the shared one on 55432 must
 * never be restarted): the same Debian binaries and settings as scripts/stack/up.sh
 * (`wal_level = logical`, trust on loopback), `initdb` into its own temporary directory, on a free
 * loopback port.
 *
 *   const pg = await PrivatePostgres.start();   // initdb, start, create the `app` and `warehouse` databases
 *   pg.url('app')                               // postgres://postgres@127.0.0.1:<port>/app
 *   await pg.stop('immediate');                 // crash-like stop (or 'fast': clean shutdown)
 *   await pg.restart();                         // same port, same data dir; resolves once it serves
 *   await pg.destroy();                         // stop it and remove the directory (afterAll)
 *
 * PostgreSQL refuses to run as root: as root, the server runs as the `postgres` OS user.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';
import { ServerProcess } from './private-server';

/** The newest Debian PostgreSQL server binaries (as scripts/stack/lib.sh's pg_bindir finds them). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const m of majors) {
    const bin = join(root, m, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (scripts/stack/up.sh installs them)');
}

/** How the server is stopped: `fast` (SIGINT) rolls back and shuts down cleanly; `immediate` (SIGQUIT) needs crash recovery. */
export type StopMode = 'fast' | 'immediate';

const SIGNAL: Record<StopMode, NodeJS.Signals> = { fast: 'SIGINT', immediate: 'SIGQUIT' };

function osUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export class PrivatePostgres {
  private readonly server: ServerProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly user: { uid: number; gid: number } | undefined,
  ) {
    this.server = new ServerProcess('private PostgreSQL', join(dir, 'postgres.log'));
  }

  /** initdb into a fresh temp dir, start, and create the `app` and `warehouse` databases. */
  static async start(timeoutMs = 120_000): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    const user = osUser();
    const dir = mkdtempSync(join(tmpdir(), 'tideway-pg-'));
    if (user) chownSync(dir, user.uid, user.gid);
    const pg = new PrivatePostgres(dir, await freePort(), bin, user);
    try {
      execFileSync(join(bin, 'initdb'), ['-D', pg.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions', '--no-sync'], {
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(user ?? {}),
      });
      writeFileSync(
        join(pg.dataDir, 'postgresql.auto.conf'),
        [
          `listen_addresses = '127.0.0.1'`,
          `port = ${pg.port}`,
          `unix_socket_directories = ''`,
          'wal_level = logical',
          'max_replication_slots = 10',
          'max_wal_senders = 10',
          'max_connections = 100',
          'fsync = off',
          'full_page_writes = off',
          'logging_collector = off',
          'log_min_messages = warning',
          '',
        ].join('\n'),
      );
      writeFileSync(join(pg.dataDir, 'pg_hba.conf'), ['host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust', ''].join('\n'));
      if (user) for (const f of ['postgresql.auto.conf', 'pg_hba.conf']) chownSync(join(pg.dataDir, f), user.uid, user.gid);
      await pg.restart(timeoutMs);
      const c = await pg.client('postgres');
      try {
        for (const db of ['app', 'warehouse']) await c.query(`CREATE DATABASE ${db}`);
      } finally {
        await c.end();
      }
    } catch (err) {
      await pg.destroy();
      throw err;
    }
    return pg;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return this.server.logFile;
  }

  get running(): boolean {
    return this.server.running;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A connected client (errors after a server stop are swallowed: the caller sees them on its next query). */
  async client(database: string): Promise<Client> {
    const c = new Client({ connectionString: this.url(database), connectionTimeoutMillis: 5000 });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  /** (Re)starts the server on the same port and data dir; resolves once it answers a query. */
  async restart(timeoutMs = 120_000): Promise<void> {
    if (this.user && !this.running) chownSync(this.dir, this.user.uid, this.user.gid);
    await this.server.start(join(this.bin, 'postgres'), ['-D', this.dataDir], { cwd: '/', ...(this.user ?? {}) }, () => this.answers(), timeoutMs, 250);
  }

  private async answers(): Promise<boolean> {
    const c = await this.client('postgres');
    await c.query('SELECT 1');
    await c.end();
    return true;
  }

  /** Stops the postmaster with `mode` and waits for it to exit (SIGKILL after the timeout). */
  async stop(mode: StopMode = 'fast', timeoutMs = 60_000): Promise<void> {
    await this.server.stop(SIGNAL[mode], timeoutMs);
  }

  /** Stops the server (immediate) and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return this.server.logTail(lines);
  }
}
