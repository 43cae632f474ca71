import { decodeMetadata, encodeMetadata, foldMetadata, type StreamMetadata } from '../src/stream-metadata';

const rec = (key: string | null, value: StreamMetadata | null | string) => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : typeof value === 'string' ? Buffer.from(value) : encodeMetadata(value),
});

describe('stream metadata', () => {
  const a: StreamMetadata = { mode: 'ON_DEMAND', createdAtMs: 1000, tags: { team: 'risk' } };
  const b: StreamMetadata = { mode: 'PROVISIONED', createdAtMs: 2000, tags: {} };

  it('round-trips through a record value', () => {
    expect(decodeMetadata(encodeMetadata(a))).toEqual(a);
  });

  it('folds to the latest value per stream topic; a tombstone removes the stream', () => {
    const state = foldMetadata([rec('t1', a), rec('t2', a), rec('t1', b), rec('t2', null), rec(null, a)]);
    expect([...state.entries()]).toEqual([['t1', b]]);
  });

  it('reads a value it cannot parse as absent, and keeps only string tags', () => {
    expect(decodeMetadata(Buffer.from('not json'))).toBeUndefined();
    expect(decodeMetadata(Buffer.from(JSON.stringify({ mode: 'X', tags: { a: 1, b: 'x' } })))).toEqual({
      mode: 'PROVISIONED',
      createdAtMs: 0,
      tags: { b: 'x' },
    });
  });
});
