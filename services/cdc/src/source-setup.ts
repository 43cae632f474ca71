/**
 * Checks and prepares the source database before capture: wal_level, the tables, the
 * publication, the state table, and the facts `planSlot` decides on.
 */
import type { Client } from 'pg';
import type { Logger } from '@tideway/runtime';
import { splitTableName } from './config';
import { CdcError } from './errors';
import type { SlotRow, SnapshotRecord } from './slot-plan';
import { quoteIdent, quoteTable } from './sql';

export interface TableName {
  schema: string;
  table: string;
}

export async function checkWalLevel(client: Client): Promise<void> {
  const res = await client.query<{ wal_level: string }>('SHOW wal_level');
  const level = res.rows[0]?.wal_level;
  if (level !== 'logical') {
    throw new CdcError(
      'wal_level',
      `PostgreSQL wal_level is "${level}" but logical replication needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL`,
    );
  }
}

export async function currentDatabase(client: Client): Promise<string> {
  return (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
}

/** Checks that every configured table exists; a missing one is a configuration error (exit 2). */
export async function checkTables(client: Client, tables: TableName[]): Promise<void> {
  for (const t of tables) {
    const res = await client.query(
      "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
      [t.schema, t.table],
    );
    if (res.rows.length === 0) throw new CdcError('table_not_found', `CDC_TABLES: table ${t.schema}.${t.table} does not exist in the source database`);
  }
}

/** Creates the publication when absent; adds configured tables a filtered publication lacks. */
export async function ensurePublication(client: Client, publication: string, tables: TableName[], logger: Logger): Promise<void> {
  const pub = await client.query<{ puballtables: boolean }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
  if (pub.rows.length === 0) {
    const target = tables.length === 0 ? 'FOR ALL TABLES' : `FOR TABLE ${tables.map((t) => quoteTable(t.schema, t.table)).join(', ')}`;
    try {
      await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} ${target}`);
      logger.info({ publication, tables: tables.length === 0 ? 'all' : tables.map((t) => `${t.schema}.${t.table}`) }, 'created publication');
    } catch (err) {
      if ((err as { code?: string }).code !== '42710') throw err; // created concurrently
    }
    return;
  }
  if (pub.rows[0].puballtables || tables.length === 0) return;
  const present = await client.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [
    publication,
  ]);
  const have = new Set(present.rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const missing = tables.filter((t) => !have.has(`${t.schema}.${t.table}`));
  if (missing.length === 0) return;
  await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${missing.map((t) => quoteTable(t.schema, t.table)).join(', ')}`);
  logger.info({ publication, added: missing.map((t) => `${t.schema}.${t.table}`) }, 'added tables to the existing publication');
}

/** The tables to snapshot: the configured ones, or every table in the publication. */
export async function publicationTables(client: Client, publication: string): Promise<TableName[]> {
  const res = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
    [publication],
  );
  return res.rows.map((r) => ({ schema: r.schemaname, table: r.tablename }));
}

export async function readSlot(client: Client, slot: string): Promise<SlotRow | undefined> {
  const res = await client.query<{ plugin: string | null; database: string | null; wal_status: string | null; confirmed_flush_lsn: string | null }>(
    'SELECT plugin, database, wal_status, confirmed_flush_lsn::text AS confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const r = res.rows[0];
  return r ? { plugin: r.plugin, database: r.database, walStatus: r.wal_status, confirmedFlushLsn: r.confirmed_flush_lsn } : undefined;
}

/** Records per slot whether its initial snapshot finished, so a crash mid-snapshot re-snapshots. */
export class SnapshotStateStore {
  private readonly table: string;

  constructor(qualified: string) {
    const { schema, table } = splitTableName(qualified);
    this.table = quoteTable(schema, table);
  }

  async ensure(client: Client): Promise<void> {
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           slot_name text PRIMARY KEY,
           snapshot text NOT NULL CHECK (snapshot IN ('running', 'done', 'skipped')),
           consistent_lsn pg_lsn,
           updated_at timestamptz NOT NULL DEFAULT now())`,
      );
    } catch (err) {
      // Two processes creating it at once: one wins, the other sees a duplicate type/relation.
      if (!['23505', '42P07'].includes((err as { code?: string }).code ?? '')) throw err;
    }
  }

  async read(client: Client, slot: string): Promise<SnapshotRecord | undefined> {
    const res = await client.query<{ snapshot: SnapshotRecord['status'] }>(`SELECT snapshot FROM ${this.table} WHERE slot_name = $1`, [slot]);
    return res.rows[0] ? { status: res.rows[0].snapshot } : undefined;
  }

  async write(client: Client, slot: string, status: SnapshotRecord['status'], consistentLsn: string | null): Promise<void> {
    await client.query(
      `INSERT INTO ${this.table} (slot_name, snapshot, consistent_lsn) VALUES ($1, $2, $3::pg_lsn)
       ON CONFLICT (slot_name) DO UPDATE SET snapshot = EXCLUDED.snapshot, consistent_lsn = COALESCE(EXCLUDED.consistent_lsn, ${this.table}.consistent_lsn), updated_at = now()`,
      [slot, status, consistentLsn],
    );
  }
}
