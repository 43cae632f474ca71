import { COLUMNS_HEADER, UNAVAILABLE_VALUE, type IncomingMessage } from '@tideway/runtime';
import { decodeRecord, type DecodeOptions } from '../src/decode';

const UPSERT: DecodeOptions = { mode: 'upsert', tableNaming: 'table', softDelete: false };
const HISTORY: DecodeOptions = { mode: 'history', tableNaming: 'table', softDelete: false };

function msg(value: unknown, key: unknown = { id: 1 }, columns?: unknown): IncomingMessage {
  return {
    topic: 'app.changes',
    partition: 0,
    offset: '7',
    key: key === null ? null : Buffer.from(JSON.stringify(key)),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: columns ? { [COLUMNS_HEADER]: Buffer.from(JSON.stringify(columns)) } : {},
    timestamp: 0,
  };
}

const source = (table = 'policies', schema = 'public') => ({
  connector: 'postgresql',
  db: 'app',
  schema,
  table,
  lsn: 1234,
  txId: 1,
  ts_ms: 99,
  snapshot: 'false',
});
const COLS = [
  { name: 'id', type: 'int4', key: true },
  { name: 'name', type: 'varchar(20)', key: false },
];

describe('decodeRecord', () => {
  it('decodes an insert with typed columns from the header, key first', () => {
    const d = decodeRecord(msg({ op: 'c', after: { name: 'a', id: 1 }, ts_ms: 5, source: source() }, { id: 1 }, COLS), UPSERT);
    expect(d.kind).toBe('change');
    if (d.kind !== 'change') return;
    expect(d.change).toMatchObject({
      table: 'policies',
      op: 'c',
      lsn: 1234,
      offset: '7',
      keyColumns: ['id'],
      row: { id: 1, name: 'a' },
      sourceTsMs: 99,
      eventTsMs: 5,
    });
    expect(d.change.columns).toEqual([
      { name: 'id', type: 'integer', key: true },
      { name: 'name', type: 'character varying(20)', key: false },
    ]);
  });

  it('takes the key from the record key when there is no header, and infers types', () => {
    const d = decodeRecord(msg({ op: 'u', after: { id: 3, score: 1.5, ok: true }, source: source() }, { id: 3 }), UPSERT);
    expect(d.kind === 'change' && d.change.keyColumns).toEqual(['id']);
    expect(d.kind === 'change' && d.change.columns.map((c) => c.type)).toEqual(['bigint', 'double precision', 'boolean']);
  });

  it('reduces an upsert-mode delete to its key, from before or from the record key', () => {
    const a = decodeRecord(msg({ op: 'd', before: { id: 2, name: 'x' }, source: source() }, { id: 2 }, COLS), UPSERT);
    expect(a.kind === 'change' && a.change.row).toEqual({ id: 2 });
    const b = decodeRecord(msg({ op: 'd', before: null, source: source() }, { id: 4 }, COLS), UPSERT);
    expect(b.kind === 'change' && b.change.row).toEqual({ id: 4 });
    const h = decodeRecord(msg({ op: 'd', before: { id: 2, name: 'x' }, source: source() }, { id: 2 }, COLS), HISTORY);
    expect(h.kind === 'change' && h.change.row).toEqual({ id: 2, name: 'x' });
    const soft = decodeRecord(msg({ op: 'd', before: { id: 2, name: 'x' }, source: source() }, { id: 2 }, COLS), { ...UPSERT, softDelete: true });
    expect(soft.kind === 'change' && soft.change.row).toEqual({ id: 2, name: 'x' });
  });

  it('lists unchanged-TOAST columns so they are not written', () => {
    const d = decodeRecord(msg({ op: 'u', after: { id: 1, name: UNAVAILABLE_VALUE }, source: source() }, { id: 1 }, COLS), UPSERT);
    expect(d.kind === 'change' && d.change.unavailable).toEqual(['name']);
  });

  it('skips tombstones', () => {
    expect(decodeRecord(msg(null), UPSERT)).toEqual({ kind: 'skip' });
  });

  it('names tables after schema and table when asked', () => {
    const d = decodeRecord(msg({ op: 'c', after: { id: 1 }, source: source('p', 'sales') }), {
      mode: 'upsert',
      tableNaming: 'schema_table',
      softDelete: false,
    });
    expect(d.kind === 'change' && d.change.table).toBe('sales_p');
  });

  it.each([
    ['malformed_json', '{oops', { id: 1 }],
    ['not_an_envelope', '[1]', { id: 1 }],
    ['missing_field', { op: 'c', after: { id: 1 } }, { id: 1 }],
    ['missing_field', { op: 'x', after: { id: 1 }, source: source() }, { id: 1 }],
    ['invalid_identifier', { op: 'c', after: { id: 1 }, source: source('p"; DROP TABLE x; --') }, { id: 1 }],
    ['invalid_identifier', { op: 'c', after: { id: 1, 'a b': 2 }, source: source() }, { id: 1 }],
    ['reserved_column', { op: 'c', after: { id: 1, _tideway_lsn: 2 }, source: source() }, { id: 1 }],
    ['missing_key', { op: 'c', after: { a: 1 }, source: source() }, null],
    ['missing_key', { op: 'c', after: { id: null }, source: source() }, { id: null }],
  ])('rejects with %s', (reason, value, key) => {
    const d = decodeRecord(msg(value, key), UPSERT);
    expect(d.kind).toBe('reject');
    if (d.kind === 'reject') {
      expect(d.error.reason).toBe(reason);
      expect(d.error.message.length).toBeGreaterThan(0);
    }
  });

  it('accepts a keyless table in history mode', () => {
    expect(decodeRecord(msg({ op: 'c', after: { a: 1 }, source: source() }, null), HISTORY).kind).toBe('change');
  });
});
