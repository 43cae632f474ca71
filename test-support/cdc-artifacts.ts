/**
 * What a `tideway cdc` test leaves in PostgreSQL and Kafka, and how to remove it: slots pin WAL on
 * the shared server, so a test always drops the ones it made.
 */
import { Client } from 'pg';
import { testKafka } from './kafka';

export interface CdcNames {
  slot: string;
  publication: string;
}

const DATABASE_URL = () => process.env.CDC_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/app';
const STATE_TABLE = 'public.tideway_cdc_state';

/** Drops the slot (waiting until its walsender is gone), the publication, tables and state row. */
export async function dropCdcArtifacts(n: CdcNames, tables: string[], topics: string[] = []): Promise<void> {
  const c = new Client({ connectionString: DATABASE_URL() });
  c.on('error', () => undefined);
  await c.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const r = await c.query<{ active: boolean; active_pid: number | null }>('SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1', [
        n.slot,
      ]);
      if (r.rows.length === 0) break;
      if (r.rows[0].active && r.rows[0].active_pid) await c.query('SELECT pg_terminate_backend($1)', [r.rows[0].active_pid]);
      try {
        await c.query('SELECT pg_drop_replication_slot($1)', [n.slot]);
        break;
      } catch {
        await new Promise((r2) => setTimeout(r2, 200));
      }
    }
    await c.query(`DROP PUBLICATION IF EXISTS "${n.publication}"`);
    for (const t of tables) await c.query(`DROP TABLE IF EXISTS ${t}`);
    await c.query(`DELETE FROM ${STATE_TABLE} WHERE slot_name = $1`, [n.slot]).catch(() => undefined);
  } finally {
    await c.end();
  }
  if (topics.length > 0) {
    const admin = testKafka().admin();
    await admin.connect();
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.disconnect();
  }
}
