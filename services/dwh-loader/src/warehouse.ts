/**
 * The warehouse edge: PostgreSQL through `pg`. Creates the schema, the offsets table and the
 * data tables, and applies one batch per transaction together with the Kafka offset it came
 * from. The offsets row is locked and compared first (a fencing check): if another loader has
 * moved the partition's offset since we read it, nothing is written and the caller re-reads.
 */
import { Pool, type PoolClient, type DatabaseError } from 'pg';
import type { Logger } from '@tideway/runtime';
import { planDdl, planStatements, type DeleteMode, type Statement } from './apply-plan';
import type { DecodedChange, LoadMode } from './decode';
import { RejectedRecord } from './errors';
import { qualified, quoteIdent } from './identifiers';

export const OFFSETS_TABLE = '_tideway_offsets';

export interface WarehouseOptions {
  schema: string;
  mode: LoadMode;
  deleteMode: DeleteMode;
  groupId: string;
}

export type ApplyOutcome =
  /** Committed: rows and `nextOffset` are in the warehouse. */
  | { kind: 'committed'; rejected: Array<{ change: DecodedChange; error: RejectedRecord }> }
  /** Another loader owns the partition's progress now: its stored offset is `stored`. */
  | { kind: 'fenced'; stored: bigint };

export interface ApplyRequest {
  topic: string;
  partition: number;
  /** The warehouse-stored offset this loader believes is current. */
  expectedNext: bigint;
  /** Offset to store on commit: after the last record of the batch. */
  nextOffset: bigint;
  changes: DecodedChange[];
  /**
   * Called inside the transaction, after the fencing check and before COMMIT, with every record
   * that cannot be applied; it must make them safe (dead-letter topic) or throw to roll back.
   */
  beforeCommit(rejected: Array<{ change: DecodedChange; error: RejectedRecord }>): Promise<void>;
}

/** SQLSTATEs caused by one record's content: that record is dead-lettered, the batch goes on. */
export function isRecordError(err: unknown): boolean {
  const code = (err as DatabaseError | undefined)?.code;
  if (typeof code !== 'string') return false;
  // 22: data exception; 23: integrity; 21000: one statement touching a row twice (keys equal
  // only after casting, e.g. "1" and 1); 42804: datatype mismatch; 54000: value too large.
  return code.startsWith('22') || code.startsWith('23') || code === '21000' || code === '42804' || code === '54000';
}

/** The table or a column went away under us (dropped by hand): forget cached shapes and retry. */
export function isShapeError(err: unknown): boolean {
  const code = (err as DatabaseError | undefined)?.code;
  return code === '42P01' || code === '42703' || code === '42P10' || code === '3F000';
}

const ALREADY_EXISTS = new Set(['42P06', '42P07', '42701', '23505']);

/**
 * Errors retrying cannot fix: the database does not exist, the login or a privilege is refused.
 * SQLSTATE classes 28 (authorization) and 3D (catalog), and 42501 (insufficient privilege).
 */
export function isMisconfiguration(err: unknown): boolean {
  const code = (err as DatabaseError | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('28') || code === '3D000' || code === '42501');
}

export class Warehouse {
  private readonly tables = new Map<string, Map<string, string>>();

  constructor(
    private readonly pool: Pool,
    private readonly opts: WarehouseOptions,
    private readonly logger: Logger,
  ) {}

  private get offsetsTable(): string {
    return qualified(this.opts.schema, OFFSETS_TABLE);
  }

  /** Creates the schema and the offsets table if missing. */
  async init(): Promise<void> {
    await this.ddl(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.opts.schema)}`);
    await this.ddl(
      `CREATE TABLE IF NOT EXISTS ${this.offsetsTable} (group_id varchar(255) NOT NULL, topic varchar(255) NOT NULL, partition integer NOT NULL, ` +
        `next_offset bigint NOT NULL, updated_at timestamp with time zone NOT NULL DEFAULT now(), PRIMARY KEY (group_id, topic, partition))`,
    );
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** The offset of the next record to apply for a partition; 0 when the warehouse has none yet. */
  async storedOffset(topic: string, partition: number): Promise<bigint> {
    const sql = `SELECT next_offset FROM ${this.offsetsTable} WHERE group_id=$1 AND topic=$2 AND partition=$3`;
    const r = await this.pool.query<{ next_offset: string }>(sql, [this.opts.groupId, topic, partition]);
    return r.rows.length ? BigInt(r.rows[0].next_offset) : 0n;
  }

  /** Forgets cached table shapes (after a shape error). */
  forgetTables(): void {
    this.tables.clear();
  }

  columnType = (table: string, column: string): string | undefined => this.tables.get(table)?.get(column);

  /** Runs DDL outside any data transaction; "already exists" from a concurrent loader is fine. */
  private async ddl(sql: string): Promise<void> {
    try {
      await this.pool.query(sql);
    } catch (err) {
      if (ALREADY_EXISTS.has((err as DatabaseError).code ?? '')) return;
      throw err;
    }
  }

  private async loadShape(table: string): Promise<Map<string, string> | undefined> {
    const r = await this.pool.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a ` +
        `JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
        `WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
      [this.opts.schema, table],
    );
    if (r.rows.length === 0) {
      this.tables.delete(table);
      return undefined;
    }
    const shape = new Map(r.rows.map((row) => [row.name, row.type]));
    this.tables.set(table, shape);
    return shape;
  }

  /** Creates missing tables and adds missing columns for `changes`. */
  async ensureTables(changes: DecodedChange[]): Promise<void> {
    const byTable = new Map<string, DecodedChange[]>();
    for (const c of changes) {
      if (c.op === 't') continue;
      let list = byTable.get(c.table);
      if (!list) byTable.set(c.table, (list = []));
      list.push(c);
    }
    for (const [table, list] of byTable) {
      const cached = this.tables.get(table);
      if (cached && list.every((c) => c.columns.every((col) => cached.has(col.name)))) continue;
      const existing = await this.loadShape(table);
      const ddl = planDdl(this.opts, table, existing, list);
      for (const sql of ddl) {
        this.logger.info({ table, sql: sql.slice(0, 300) }, existing ? 'adding columns' : 'creating table');
        await this.ddl(sql);
      }
      if (ddl.length > 0 || !existing) await this.loadShape(table);
    }
  }

  private statements(changes: DecodedChange[]): Statement[] {
    // A truncate of a table that does not exist yet has nothing to remove.
    const present = changes.filter((c) => c.op !== 't' || this.tables.has(c.table));
    return planStatements({ ...this.opts, columnType: this.columnType }, present);
  }

  /** Locks the partition's offsets row and returns the stored offset. */
  private async lockOffset(client: PoolClient, topic: string, partition: number): Promise<bigint> {
    const key = [this.opts.groupId, topic, partition];
    const select = `SELECT next_offset FROM ${this.offsetsTable} WHERE group_id=$1 AND topic=$2 AND partition=$3 FOR UPDATE`;
    let r = await client.query<{ next_offset: string }>(select, key);
    if (r.rows.length === 0) {
      await client.query(`INSERT INTO ${this.offsetsTable} (group_id, topic, partition, next_offset) VALUES ($1,$2,$3,0) ON CONFLICT DO NOTHING`, key);
      r = await client.query<{ next_offset: string }>(select, key);
    }
    return BigInt(r.rows[0].next_offset);
  }

  /**
   * One transaction: fencing check, rows, offset. If a statement fails because of a record's
   * content, the batch is redone change by change (savepoints) to find and reject the culprits.
   */
  async apply(req: ApplyRequest): Promise<ApplyOutcome> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      const fast = await this.attempt(client, req, false);
      if (fast !== 'record_error') return fast;
      return (await this.attempt(client, req, true)) as ApplyOutcome;
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      // A client that failed mid-transaction is not reused: its state is unknown.
      client.release(broken ? true : undefined);
    }
  }

  private async attempt(client: PoolClient, req: ApplyRequest, oneByOne: boolean): Promise<ApplyOutcome | 'record_error'> {
    await client.query('BEGIN');
    try {
      const stored = await this.lockOffset(client, req.topic, req.partition);
      if (stored !== req.expectedNext) {
        await client.query('ROLLBACK');
        return { kind: 'fenced', stored };
      }
      const rejected: Array<{ change: DecodedChange; error: RejectedRecord }> = [];
      if (!oneByOne) {
        try {
          for (const st of this.statements(req.changes)) await client.query(st.text, st.values);
        } catch (err) {
          if (!isRecordError(err)) throw err;
          const refused = { topic: req.topic, partition: req.partition, code: (err as DatabaseError).code, err: (err as Error).message };
          this.logger.warn(refused, 'a record was refused; applying the batch change by change');
          await client.query('ROLLBACK');
          return 'record_error';
        }
      } else {
        for (const change of req.changes) {
          await client.query('SAVEPOINT one_change');
          try {
            for (const st of this.statements([change])) await client.query(st.text, st.values);
            await client.query('RELEASE SAVEPOINT one_change');
          } catch (err) {
            if (!isRecordError(err)) throw err;
            await client.query('ROLLBACK TO SAVEPOINT one_change');
            const message = `warehouse refused the change (SQLSTATE ${(err as DatabaseError).code}): ${(err as Error).message}`;
            rejected.push({ change, error: new RejectedRecord('value_rejected', message) });
          }
        }
      }
      await req.beforeCommit(rejected);
      await client.query(`UPDATE ${this.offsetsTable} SET next_offset=$4, updated_at=now() WHERE group_id=$1 AND topic=$2 AND partition=$3`, [
        this.opts.groupId,
        req.topic,
        req.partition,
        req.nextOffset.toString(),
      ]);
      await client.query('COMMIT');
      return { kind: 'committed', rejected };
    } catch (err) {
      // The load's own failure is rethrown; a ROLLBACK on a failed connection ends the transaction anyway.
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
