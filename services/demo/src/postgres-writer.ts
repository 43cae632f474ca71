/**
 * Applies generated changes to PostgreSQL: one transaction per batch, inserts idempotent
 * (ON CONFLICT DO NOTHING), so a batch whose commit outcome was lost can be written again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { errorMessage } from '@tideway/runtime';
import { DatabaseUnavailable } from './errors';
import type { Change } from './generator';

/** The sample OLTP schema (also mounted into PostgreSQL by docker-compose.yml). */
export const OLTP_SCHEMA_FILE = join(__dirname, '..', 'sql', 'oltp-schema.sql');

/** `"name"`; the name is validated by the DEMO_SCHEMA setting, quoting keeps it exact. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}

/** SQL and parameters of one change. Pure. */
export function changeStatement(schema: string, c: Change): { text: string; values: unknown[] } {
  const s = quoteIdent(schema);
  if (c.op === 'c') {
    const cols = Object.keys(c.row);
    const key = cols[0];
    return {
      text: `INSERT INTO ${s}.${c.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (${key}) DO NOTHING`,
      values: Object.values(c.row),
    };
  }
  if (c.table === 'policies') {
    const text = `UPDATE ${s}.policies SET status = $1, premium = $2, updated_at = now() WHERE policy_id = $3`;
    return { text, values: [c.set.status, c.set.premium, c.key] };
  }
  return { text: `UPDATE ${s}.claims SET status = $1, amount = $2, updated_at = now() WHERE claim_id = $3`, values: [c.set.status, c.set.amount, c.key] };
}

export class PostgresChangeWriter {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** Creates the schema and the tables when missing. */
  async ensureSchema(): Promise<void> {
    const ddl = readFileSync(OLTP_SCHEMA_FILE, 'utf8');
    const client = await this.pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(this.schema)}`);
      await client.query(ddl);
    } finally {
      client.release(true); // search_path was changed: do not hand this connection out again
    }
  }

  async write(changes: readonly Change[]): Promise<void> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new DatabaseUnavailable(`cannot connect to the OLTP database: ${errorMessage(err)}`, err);
    }
    try {
      await client.query('BEGIN');
      for (const c of changes) {
        const { text, values } = changeStatement(this.schema, c);
        await client.query(text, values);
      }
      await client.query('COMMIT');
    } catch (err) {
      // The write's own failure is reported; a ROLLBACK on a failed connection ends the transaction anyway.
      await client.query('ROLLBACK').catch(() => undefined);
      throw new DatabaseUnavailable(`writing ${changes.length} changes failed: ${errorMessage(err)}`, err);
    } finally {
      client.release();
    }
  }
}
