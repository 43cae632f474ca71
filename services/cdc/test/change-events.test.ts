import { COLUMNS_HEADER, UNAVAILABLE_VALUE, parseChangeEvent } from '@tideway/runtime';
import {
  deleteRecordsFor,
  insertRecords,
  makeCapturedTable,
  NEW_KEY_HEADER,
  OLD_KEY_HEADER,
  snapshotRecord,
  topicFor,
  truncateRecord,
  updateRecords,
  type SourcePosition,
} from '../src/change-events';
import type { TupleValue } from '../src/pgoutput';

const table = makeCapturedTable({
  relationId: 1,
  schema: 'public',
  table: 'policies',
  topic: 'policies.changes',
  columns: [
    { name: 'policy_id', codec: { kind: 'int' }, type: 'integer' },
    { name: 'premium', codec: { kind: 'numeric' }, type: 'numeric(12,2)' },
    { name: 'notes', codec: { kind: 'text', known: true }, type: 'text' },
  ],
  keyColumns: [0],
});
const keyless = makeCapturedTable({ ...table, keyColumns: [] });
const pos: SourcePosition = { db: 'app', lsn: 0x100n, txId: 77, commitTimeMs: 1_700_000_000_000, snapshot: 'false' };
const opts = { tombstones: true, nowMs: 1_700_000_000_500 };
const txt = (text: string): TupleValue => ({ kind: 'text', text });
const NULL: TupleValue = { kind: 'null' };

function value(m: { value: unknown }) {
  return parseChangeEvent(m.value as string);
}

describe('change records', () => {
  it('an insert is op c keyed by the primary key, with the columns header and Debezium source', () => {
    const [m] = insertRecords(table, [txt('42'), txt('10.50'), NULL], pos, opts);
    expect(m.topic).toBe('policies.changes');
    expect(m.key).toBe('{"policy_id":42}');
    const ev = JSON.parse(m.value as string);
    expect(ev).toEqual({
      before: null,
      after: { policy_id: 42, premium: '10.50', notes: null },
      op: 'c',
      ts_ms: opts.nowMs,
      source: { connector: 'tideway', db: 'app', schema: 'public', table: 'policies', lsn: 256, txId: 77, ts_ms: pos.commitTimeMs, snapshot: 'false' },
    });
    expect(JSON.parse(m.headers![COLUMNS_HEADER].toString())).toEqual([
      { name: 'policy_id', type: 'integer', key: true },
      { name: 'premium', type: 'numeric(12,2)', key: false },
      { name: 'notes', type: 'text', key: false },
    ]);
    expect(value(m).op).toBe('c');
  });

  it('an update without REPLICA IDENTITY FULL has no before; unchanged TOAST is marked, not null', () => {
    const [m, ...rest] = updateRecords(table, null, null, [txt('42'), txt('11'), { kind: 'unchanged' }], pos, opts);
    expect(rest).toHaveLength(0);
    expect(value(m)).toMatchObject({ op: 'u', before: null, after: { policy_id: 42, premium: '11', notes: UNAVAILABLE_VALUE } });
  });

  it('an update with REPLICA IDENTITY FULL carries the old row as before', () => {
    const [m] = updateRecords(table, 'full', [txt('42'), txt('10'), txt('a')], [txt('42'), txt('11'), txt('a')], pos, opts);
    expect(value(m)).toMatchObject({ op: 'u', before: { policy_id: 42, premium: '10', notes: 'a' }, after: { premium: '11' } });
  });

  it('a primary-key change becomes a delete of the old key, its tombstone, and a create of the new key', () => {
    const out = updateRecords(table, 'key', [txt('1'), NULL, NULL], [txt('2'), txt('5'), NULL], pos, opts);
    expect(out.map((m) => [m.key, m.value === null ? null : value(m).op])).toEqual([
      ['{"policy_id":1}', 'd'],
      ['{"policy_id":1}', null],
      ['{"policy_id":2}', 'c'],
    ]);
    expect(value(out[0]).before).toEqual({ policy_id: 1 });
    expect(out[0].headers![NEW_KEY_HEADER]).toBe('{"policy_id":2}');
    expect(out[2].headers![OLD_KEY_HEADER]).toBe('{"policy_id":1}');
  });

  it('an old key equal to the new one is a plain update', () => {
    const out = updateRecords(table, 'key', [txt('2'), NULL, NULL], [txt('2'), txt('5'), NULL], pos, opts);
    expect(out).toHaveLength(1);
    expect(value(out[0]).op).toBe('u');
  });

  it('a delete is op d followed by a tombstone, unless tombstones are off', () => {
    const out = deleteRecordsFor(table, 'key', [txt('42'), NULL, NULL], pos, opts);
    expect(out).toHaveLength(2);
    expect(value(out[0])).toMatchObject({ op: 'd', before: { policy_id: 42 }, after: null });
    expect(out[1]).toEqual({ topic: 'policies.changes', key: '{"policy_id":42}', value: null });
    expect(deleteRecordsFor(table, 'key', [txt('42'), NULL, NULL], pos, { ...opts, tombstones: false })).toHaveLength(1);
  });

  it('a table without a key gets null keys and no tombstones', () => {
    const [c] = insertRecords(keyless, [txt('1'), txt('2'), NULL], pos, opts);
    expect(c.key).toBeNull();
    const del = deleteRecordsFor(keyless, 'full', [txt('1'), txt('2'), NULL], pos, opts);
    expect(del).toHaveLength(1);
    expect(value(del[0]).before).toEqual({ policy_id: 1, premium: '2', notes: null });
  });

  it('a truncate is op t with a null key on partition 0', () => {
    const m = truncateRecord(table, pos, opts);
    expect(m).toMatchObject({ key: null, partition: 0, topic: 'policies.changes' });
    expect(value(m)).toMatchObject({ op: 't', before: null, after: null });
  });

  it('a snapshot row is op r with the snapshot flag', () => {
    const m = snapshotRecord(table, { policy_id: 1, premium: '1', notes: null }, { ...pos, txId: null, snapshot: 'last' }, opts);
    expect(value(m)).toMatchObject({ op: 'r', source: { snapshot: 'last', txId: null } });
  });
});

describe('undecodable values', () => {
  it('keep the server text and are reported, never dropped', () => {
    const jsonTable = makeCapturedTable({ ...table, columns: [table.columns[0], { name: 'doc', codec: { kind: 'json' }, type: 'json' }, table.columns[2]] });
    const seen: string[] = [];
    const [m] = insertRecords(jsonTable, [txt('1'), txt('{not json'), NULL], pos, { ...opts, onUndecodable: (_t, column) => seen.push(column) });
    expect(value(m).after).toMatchObject({ doc: '{not json' });
    expect(seen).toEqual(['doc']);
  });
});

describe('topicFor', () => {
  it('fills {schema} and {table} and replaces characters Kafka does not allow', () => {
    expect(topicFor('{table}.changes', 'public', 'policies')).toBe('policies.changes');
    expect(topicFor('cdc.{schema}.{table}', 'Sales', 'Order Lines')).toBe('cdc.Sales.Order_Lines');
  });
});
