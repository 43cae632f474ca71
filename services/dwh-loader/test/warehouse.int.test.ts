/**
 * The fencing check on the real PostgreSQL: a loader whose view of a partition's offset is stale
 * (a zombie after a rebalance) commits nothing, and two loaders racing for the same partition
 * offset never both commit.
 */
import { Pool } from 'pg';
import { createLogger } from '@tideway/runtime';
import type { DecodedChange } from '../src/decode';
import { Warehouse } from '../src/warehouse';
import { dropSchema, suffix, WAREHOUSE_URL } from './harness';

const logger = createLogger('dwh-loader-test', 'silent');

function changes(from: number, count: number): DecodedChange[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: String(from + i),
    partition: 0,
    table: 'events',
    op: 'c' as const,
    lsn: 100 + from + i,
    sourceTsMs: 1,
    eventTsMs: 2,
    keyColumns: ['id'],
    row: { id: from + i },
    columns: [{ name: 'id', type: 'integer', key: true }],
    unavailable: [],
  }));
}

describe('Warehouse offset fencing', () => {
  const schema = `dwh_fence_${suffix()}`;
  const pool = new Pool({ connectionString: WAREHOUSE_URL, max: 6 });
  const make = () => new Warehouse(pool, { schema, mode: 'history', deleteMode: 'hard', groupId: 'g' }, logger);

  afterAll(async () => {
    await pool.end();
    await dropSchema(schema);
  });

  it('refuses a batch from a loader whose expected offset is stale, writing nothing', async () => {
    const owner = make();
    const zombie = make();
    await owner.init();
    const batch = changes(0, 10);
    await owner.ensureTables(batch);
    const noop = async () => undefined;
    expect(await owner.apply({ topic: 't', partition: 0, expectedNext: 0n, nextOffset: 10n, changes: batch, beforeCommit: noop })).toEqual({
      kind: 'committed',
      rejected: [],
    });
    // The zombie read offset 0 before the owner committed, and now tries to commit the same records.
    await zombie.ensureTables(batch);
    expect(await zombie.apply({ topic: 't', partition: 0, expectedNext: 0n, nextOffset: 10n, changes: batch, beforeCommit: noop })).toEqual({
      kind: 'fenced',
      stored: 10n,
    });
    expect(await owner.storedOffset('t', 0)).toBe(10n);
    const n = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
    expect(n.rows[0].n).toBe(10);
  });

  it('lets exactly one of two racing loaders commit a partition offset', async () => {
    const a = make();
    const b = make();
    const batch = changes(100, 50);
    await a.ensureTables(batch);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // `a` holds its transaction open (row lock on the offsets row) until `b` has started.
    const pa = a.apply({ topic: 't', partition: 1, expectedNext: 0n, nextOffset: 150n, changes: batch, beforeCommit: () => gate });
    await new Promise((r) => setTimeout(r, 300));
    const pb = b.apply({ topic: 't', partition: 1, expectedNext: 0n, nextOffset: 150n, changes: batch, beforeCommit: async () => undefined });
    await new Promise((r) => setTimeout(r, 300));
    release();
    const outcomes = (await Promise.all([pa, pb])).map((o) => o.kind).sort();
    expect(outcomes).toEqual(['committed', 'fenced']);
    const n = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE id >= 100`);
    expect(n.rows[0].n).toBe(50);
  });
});
