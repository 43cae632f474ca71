/**
 * The initial snapshot: reads every captured table inside a REPEATABLE READ transaction that
 * imports the snapshot exported with the slot, so the rows are exactly the state at the slot's
 * consistent point; the stream then continues from that point with nothing lost or doubled.
 * Rows go to Kafka in fetch-sized chunks under the writer's backpressure.
 */
import type { Client } from 'pg';
import type { Logger, OutgoingMessage } from '@tideway/runtime';
import { rowFromText, snapshotRecord, type BuildOptions, type CapturedTable } from './change-events';
import type { Lsn } from './lsn';
import type { CdcMetrics } from './metrics';
import type { OrderedKafkaWriter } from './ordered-writer';
import type { PgCatalog } from './pg-catalog';
import type { TableName } from './source-setup';
import { quoteIdent, quoteLiteral, quoteTable } from './sql';

export interface SnapshotInput {
  client: Client;
  snapshotName: string;
  consistentPoint: Lsn;
  db: string;
  tables: TableName[];
  catalog: PgCatalog;
  writer: OrderedKafkaWriter;
  metrics: CdcMetrics;
  logger: Logger;
  fetchRows: number;
  tombstones: boolean;
  signal: AbortSignal;
  /** Called before the first row of a table is produced (to create its topic). */
  beforeTable(table: CapturedTable): Promise<void>;
  onUndecodable: BuildOptions['onUndecodable'];
}

export async function runSnapshot(input: SnapshotInput): Promise<number> {
  const { client, logger, metrics, writer } = input;
  const startedMs = Date.now();
  let total = 0;
  // The very last row is held back one step so it can carry snapshot "last", as Debezium's does.
  let held: { table: CapturedTable; message: () => OutgoingMessage; last: () => OutgoingMessage } | undefined;
  metrics.snapshotRunning.set(1);
  metrics.snapshotTablesDone.set(0);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(input.snapshotName)}`);
    for (const name of input.tables) {
      const table = await input.catalog.describeFromCatalog(client, name.schema, name.table);
      await input.beforeTable(table);
      const label = `${table.schema}.${table.table}`;
      logger.info({ table: label }, 'snapshot of table started');
      const cursor = `tideway_snapshot_${table.relationId}`;
      const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
      await client.query(`DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT ${columns || '*'} FROM ${quoteTable(table.schema, table.table)}`);
      let rows = 0;
      for (;;) {
        if (input.signal.aborted) throw new Error('snapshot aborted by shutdown');
        const res = await client.query<unknown[]>({ text: `FETCH ${input.fetchRows} FROM ${quoteIdent(cursor)}`, rowMode: 'array' });
        if (res.rows.length === 0) break;
        const nowMs = Date.now();
        const opts: BuildOptions = { tombstones: input.tombstones, nowMs, onUndecodable: input.onUndecodable };
        const chunk: OutgoingMessage[] = [];
        for (const values of res.rows) {
          if (held) chunk.push(held.message());
          const after = rowFromText(table, values as Array<string | null>, opts);
          const pos = (snapshot: 'true' | 'last') => ({ db: input.db, lsn: input.consistentPoint, txId: null, commitTimeMs: startedMs, snapshot });
          held = { table, message: () => snapshotRecord(table, after, pos('true'), opts), last: () => snapshotRecord(table, after, pos('last'), opts) };
        }
        writer.push(chunk);
        rows += res.rows.length;
        total += res.rows.length;
        metrics.snapshotRows.inc({ table: label }, res.rows.length);
        metrics.events.inc({ table: label, op: 'r' }, res.rows.length);
        await writer.waitForCapacity();
        if (rows % 100_000 < input.fetchRows) logger.info({ table: label, rows }, 'snapshot progress');
      }
      await client.query(`CLOSE ${quoteIdent(cursor)}`);
      metrics.snapshotTablesDone.inc();
      logger.info({ table: label, rows }, 'snapshot of table done');
    }
    if (held) writer.push([held.last()]);
    await client.query('COMMIT');
  } catch (err) {
    // The snapshot's own failure is rethrown; a ROLLBACK on a failed connection ends the transaction anyway.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    metrics.snapshotRunning.set(0);
  }
  await writer.drain();
  return total;
}
