import { collapseByKey, planDdl, planStatements, type PlanOptions } from '../src/apply-plan';
import type { DecodedChange } from '../src/decode';

let offset = 0;
function change(p: Partial<DecodedChange> & { row: DecodedChange['row'] }): DecodedChange {
  const row = p.row;
  return {
    offset: String(offset++),
    partition: 0,
    table: 'policies',
    op: 'u',
    lsn: 1,
    sourceTsMs: 10,
    eventTsMs: 20,
    keyColumns: ['id'],
    columns: Object.keys(row ?? {}).map((name) => ({ name, type: name === 'id' ? 'integer' : 'text', key: name === 'id' })),
    unavailable: [],
    ...p,
  };
}

const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({ schema: 'dwh', mode: 'upsert', deleteMode: 'hard', columnType: () => undefined, ...o });

describe('collapseByKey', () => {
  it('keeps the newest change per key by LSN, then offset', () => {
    const a1 = change({ row: { id: 1, n: 'a' }, lsn: 5 });
    const a2 = change({ row: { id: 1, n: 'b' }, lsn: 3 }); // older LSN arriving later
    const b1 = change({ row: { id: 2, n: 'x' }, lsn: 7 });
    const b2 = change({ row: { id: 2, n: 'y' }, lsn: 7 }); // same LSN (same transaction): later offset wins
    expect(collapseByKey([a1, a2, b1, b2])).toEqual([[a1, b2]]);
  });
  it('with soft deletes, a delete keeps the values of the write it supersedes', () => {
    const w = change({ row: { id: 1, n: 'a', m: 'x' }, lsn: 1, op: 'c' });
    const d = change({ row: { id: 1 }, lsn: 2, op: 'd' });
    const [[merged]] = collapseByKey([w, d], true);
    expect(merged).toMatchObject({ op: 'd', lsn: 2, row: { id: 1, n: 'a', m: 'x' } });
    expect(merged.columns.map((c) => c.name)).toEqual(['id', 'n', 'm']);
    expect(collapseByKey([w, d], false)).toEqual([[d]]);
  });

  it('an unchanged-TOAST column takes the value written earlier in the same batch', () => {
    const w = change({ row: { id: 1, n: 'a', big: 'B' }, lsn: 1, op: 'c' });
    const u = change({ row: { id: 1, n: 'b', big: '__debezium_unavailable_value' }, lsn: 2, unavailable: ['big'] });
    const [[merged]] = collapseByKey([w, u]);
    expect(merged).toMatchObject({ lsn: 2, row: { id: 1, n: 'b', big: 'B' }, unavailable: [] });
    // Without an earlier value in the batch, the column stays out (the warehouse keeps its value).
    expect(collapseByKey([u])[0][0].unavailable).toEqual(['big']);
  });

  it('cuts segments at truncates', () => {
    const a = change({ row: { id: 1 } });
    const t = change({ row: null, op: 't', keyColumns: [], columns: [] });
    const b = change({ row: { id: 1 } });
    expect(collapseByKey([a, t, b])).toEqual([[a], [t], [b]]);
  });
});

describe('planStatements (upsert)', () => {
  it('writes one multi-row upsert guarded by the LSN', () => {
    const st = planStatements(opts(), [change({ row: { id: 1, n: 'a' }, lsn: 5 }), change({ row: { id: 2, n: 'b' }, lsn: 6, op: 'c' })]);
    expect(st).toHaveLength(1);
    expect(st[0].text).toBe(
      'INSERT INTO "dwh"."policies" AS t ("id","n","_tideway_lsn","_tideway_op","_tideway_source_ts_ms","_tideway_event_ts_ms") VALUES ($1,$2,$3,$4,$5,$6),($7,$8,$9,$10,$11,$12)' +
        ' ON CONFLICT ("id") DO UPDATE SET "n"=EXCLUDED."n","_tideway_lsn"=EXCLUDED."_tideway_lsn","_tideway_op"=EXCLUDED."_tideway_op","_tideway_source_ts_ms"=EXCLUDED."_tideway_source_ts_ms","_tideway_event_ts_ms"=EXCLUDED."_tideway_event_ts_ms"' +
        ' WHERE t."_tideway_lsn" <= EXCLUDED."_tideway_lsn"',
    );
    expect(st[0].values).toEqual(['1', 'a', '5', 'u', '10', '20', '2', 'b', '6', 'c', '10', '20']);
  });

  it('leaves unchanged-TOAST columns out of the statement', () => {
    const st = planStatements(opts(), [change({ row: { id: 1, n: '__debezium_unavailable_value', m: 'x' }, unavailable: ['n'] })]);
    expect(st[0].text).toContain('("id","m","_tideway_lsn"');
    expect(st[0].values).not.toContain('__debezium_unavailable_value');
  });

  it('hard delete: key and LSN predicates, never a newer row', () => {
    const st = planStatements(opts(), [change({ row: { id: 1 }, op: 'd', lsn: 9 }), change({ row: { id: 2 }, op: 'd', lsn: 10 })]);
    expect(st).toEqual([
      {
        text: 'DELETE FROM "dwh"."policies" WHERE ("id"=$1 AND "_tideway_lsn"<=$2) OR ("id"=$3 AND "_tideway_lsn"<=$4)',
        values: ['1', '9', '2', '10'],
        changes: expect.any(Array),
      },
    ]);
  });

  it('soft delete: an upsert of the key with _deleted = true', () => {
    const st = planStatements(opts({ deleteMode: 'soft' }), [change({ row: { id: 1 }, op: 'd', lsn: 9 })]);
    expect(st[0].text).toContain('"_deleted"=EXCLUDED."_deleted"');
    expect(st[0].values.at(-1)).toBe('true');
    const up = planStatements(opts({ deleteMode: 'soft' }), [change({ row: { id: 1, n: 'a' }, lsn: 9 })]);
    expect(up[0].values.at(-1)).toBe('false');
  });

  it('truncate: removes (or flags) rows not newer than it', () => {
    const t = change({ row: null, op: 't', lsn: 50, keyColumns: [], columns: [] });
    expect(planStatements(opts(), [t])[0].text).toBe('DELETE FROM "dwh"."policies" WHERE "_tideway_lsn"<=$1');
    expect(planStatements(opts({ deleteMode: 'soft' }), [t])[0].text).toContain('SET "_deleted"=true');
  });

  it('splits statements under the bind-parameter limit', () => {
    const many = Array.from({ length: 12_000 }, (_, i) => change({ row: { id: i, n: 'x' }, lsn: i }));
    const st = planStatements(opts(), many);
    expect(st.length).toBeGreaterThan(1);
    for (const s of st) expect(s.values.length).toBeLessThanOrEqual(30_000);
    expect(st.reduce((a, s) => a + s.changes.length, 0)).toBe(12_000);
  });
});

describe('planStatements (history)', () => {
  it('appends every change with op, LSN, timestamps and origin', () => {
    const st = planStatements(opts({ mode: 'history' }), [change({ row: { id: 1, n: 'a' }, lsn: 5 }), change({ row: { id: 1, n: 'b' }, lsn: 6 })]);
    expect(st).toHaveLength(1);
    expect(st[0].text).toMatch(
      /^INSERT INTO "dwh"."policies" AS t \("id","n","_tideway_op","_tideway_lsn","_tideway_source_ts_ms","_tideway_event_ts_ms","_tideway_partition","_tideway_offset"\) VALUES \(.*\),\(.*\)$/,
    );
    expect(st[0].changes).toHaveLength(2);
  });
});

describe('planDdl', () => {
  const c = change({ row: { id: 1, n: 'a' } });
  it('creates a table with the primary key and the loader columns', () => {
    expect(planDdl({ schema: 'dwh', mode: 'upsert', deleteMode: 'soft' }, 'policies', undefined, [c])).toEqual([
      'CREATE TABLE IF NOT EXISTS "dwh"."policies" ("id" integer NOT NULL, "n" text, "_tideway_op" character(1), "_tideway_lsn" bigint NOT NULL, "_tideway_source_ts_ms" bigint, "_tideway_event_ts_ms" bigint, "_deleted" boolean DEFAULT false, PRIMARY KEY ("id"))',
    ]);
  });
  it('adds only the missing columns, one statement each', () => {
    const existing = new Map([
      ['id', 'integer'],
      ['_tideway_op', 'character(1)'],
      ['_tideway_lsn', 'bigint'],
      ['_tideway_source_ts_ms', 'bigint'],
      ['_tideway_event_ts_ms', 'bigint'],
    ]);
    expect(planDdl({ schema: 'dwh', mode: 'upsert', deleteMode: 'hard' }, 'policies', existing, [c])).toEqual([
      'ALTER TABLE "dwh"."policies" ADD COLUMN "n" text',
    ]);
  });
});
