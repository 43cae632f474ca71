/**
 * A steady write load on a `(id int primary key, version int, amount int)` table, for tests that
 * take a dependency away under load: small transactions that bump versions and insert rows.
 * `committed` holds, per key, the last version whose COMMIT succeeded — what every downstream copy
 * must end up with; `inserted` the amount of every committed insert.
 *
 * A transaction that fails (the server went away) is retried on a new connection until it commits.
 * A COMMIT whose answer was lost is resolved by reading the row back, so only transactions that
 * really committed are counted.
 *
 *   await RowLoad.createTable(db, table, 100);           // rows 1..100 at version 1
 *   const load = new RowLoad(() => pg.client('app'), table, 100, { seed: 7 });
 *   ...; await load.stop();
 */
import type { Client } from 'pg';
import { seededRandom } from './seeded-random';

export interface RowLoadOptions {
  /** Seed of the choice of keys and amounts. */
  seed: number;
  /** Keys updated per transaction: 1..this many (default 3). */
  maxKeysPerTransaction?: number;
  /** Share of transactions that also insert a row (default 0.2). */
  insertRatio?: number;
  /** Pause after each committed transaction (default 20 ms): a modest load. */
  pauseMs?: number;
  /** Pause before retrying after a failure (default 250 ms). */
  retryPauseMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Amounts of inserted rows are 1..1000: `amount > threshold` selects a predictable share of inserts. */
export const MAX_AMOUNT = 1000;

export class RowLoad {
  /** Per key, the last committed version (seeded rows start at 1). */
  readonly committed = new Map<number, number>();
  /** Amount of each committed insert (seeded rows included). */
  readonly amounts = new Map<number, number>();
  transactions = 0;
  /** Attempts that met a failure (a transaction retried, or an unanswered COMMIT asked about again). */
  failures = 0;
  private writing = true;
  private abandoned = false;
  private readonly loop: Promise<void>;
  private db?: Client;

  /** Creates the table with rows 1..seededRows at version 1, amount = id % MAX_AMOUNT + 1. */
  static async createTable(db: Client, table: string, seededRows: number): Promise<void> {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, version int NOT NULL, amount int NOT NULL)`);
    await db.query(`INSERT INTO ${table} SELECT g, 1, g % ${MAX_AMOUNT} + 1 FROM generate_series(1, $1::int) g`, [seededRows]);
  }

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly table: string,
    seededRows: number,
    private readonly opts: RowLoadOptions,
  ) {
    for (let i = 1; i <= seededRows; i++) {
      this.committed.set(i, 1);
      this.amounts.set(i, (i % MAX_AMOUNT) + 1);
    }
    this.loop = this.run(seededRows + 1);
  }

  /** Committed inserts with `amount > threshold` (seeded rows excluded: they predate the capture). */
  insertedOver(threshold: number, seededRows: number): number[] {
    return [...this.amounts].filter(([id, a]) => id > seededRows && a > threshold).map(([id]) => id);
  }

  /** Finishes (and if need be retries) the transaction under way, then stops. */
  async stop(): Promise<void> {
    this.writing = false;
    await this.loop;
    await this.db?.end().catch(() => undefined);
  }

  /** Stops at once, without waiting for a server that may not come back (afterAll). */
  async abandon(): Promise<void> {
    this.abandoned = true;
    await this.stop();
  }

  private async run(firstNewId: number): Promise<void> {
    const random = seededRandom(this.opts.seed);
    const maxKeys = this.opts.maxKeysPerTransaction ?? 3;
    let nextId = firstNewId;
    while (this.writing) {
      const ids = new Set<number>();
      const n = 1 + Math.floor(random() * maxKeys);
      for (let j = 0; j < n; j++) ids.add(1 + Math.floor(random() * (nextId - 1)));
      const insert = random() < (this.opts.insertRatio ?? 0.2) ? { id: nextId++, amount: 1 + Math.floor(random() * MAX_AMOUNT) } : undefined;
      const updates = [...ids].sort((a, b) => a - b).map((id) => ({ id, version: this.committed.get(id)! + 1 }));
      // The same transaction until it is known to have committed.
      while (!(await this.attempt(updates, insert))) {
        if (this.abandoned) return;
        this.failures++;
        await sleep(this.opts.retryPauseMs ?? 250);
      }
      this.transactions++;
      for (const u of updates) this.committed.set(u.id, u.version);
      if (insert) {
        this.committed.set(insert.id, 1);
        this.amounts.set(insert.id, insert.amount);
      }
      await sleep(this.opts.pauseMs ?? 20);
    }
  }

  /** true once committed; false when it certainly did not commit (safe to run again). */
  private async attempt(updates: Array<{ id: number; version: number }>, insert?: { id: number; amount: number }): Promise<boolean> {
    let commitSent = false;
    try {
      const db = await this.client();
      await db.query('BEGIN');
      for (const u of updates) await db.query(`UPDATE ${this.table} SET version = $2 WHERE id = $1`, [u.id, u.version]);
      if (insert) await db.query(`INSERT INTO ${this.table} (id, version, amount) VALUES ($1, 1, $2)`, [insert.id, insert.amount]);
      commitSent = true;
      await db.query('COMMIT');
      return true;
    } catch {
      await this.dropClient();
      if (!commitSent) return false;
      // The answer to COMMIT was lost: did it commit? Ask again until the server answers.
      for (;;) {
        try {
          const db = await this.client();
          const probe = updates[0] ?? { id: insert!.id, version: 1 };
          const r = await db.query<{ version: number }>(`SELECT version FROM ${this.table} WHERE id = $1`, [probe.id]);
          return r.rows[0]?.version === probe.version;
        } catch {
          await this.dropClient();
          if (this.abandoned) return false;
          this.failures++;
          await sleep(this.opts.retryPauseMs ?? 250);
        }
      }
    }
  }

  private async dropClient(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    await db?.end().catch(() => undefined);
  }

  private async client(): Promise<Client> {
    this.db ??= await this.connect();
    return this.db;
  }
}

/** What a change topic read back says about a RowLoad's table: missing (key, version) pairs and duplicates. */
export function changeCoverage(
  events: Array<{ id: number; version: number }>,
  committed: Map<number, number>,
): { missing: string[]; duplicates: number; distinct: number } {
  const seen = new Set<string>();
  let duplicates = 0;
  for (const e of events) {
    const k = `${e.id}@${e.version}`;
    if (seen.has(k)) duplicates++;
    seen.add(k);
  }
  const missing: string[] = [];
  for (const [id, last] of committed) for (let v = 1; v <= last; v++) if (!seen.has(`${id}@${v}`)) missing.push(`${id}@${v}`);
  return { missing, duplicates, distinct: seen.size };
}
