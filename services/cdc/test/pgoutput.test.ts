import { decodePgOutput } from '../src/pgoutput';

/** Builds pgoutput byte fixtures the way the server lays them out. */
class Bytes {
  private parts: Buffer[] = [];
  char(c: string) {
    this.parts.push(Buffer.from(c, 'latin1'));
    return this;
  }
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  text(s: string) {
    const b = Buffer.from(s, 'utf8');
    return this.char('t').i32(b.length).raw(b);
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  build() {
    return Buffer.concat(this.parts);
  }
}

// 2024-01-01T00:00:00Z in microseconds since 2000-01-01.
const TS_2024 = 757_382_400_000_000n;

describe('decodePgOutput', () => {
  it('decodes Begin with the commit time as epoch millis and the xid', () => {
    const buf = new Bytes().char('B').i64(0x1_0000_0010n).i64(TS_2024).u32(4_000_000_000).build();
    expect(decodePgOutput(buf)).toEqual({ tag: 'begin', finalLsn: 0x1_0000_0010n, commitTimeMs: Date.UTC(2024, 0, 1), xid: 4_000_000_000 });
  });

  it('decodes Commit with its end LSN', () => {
    const buf = new Bytes().char('C').u8(0).i64(100n).i64(120n).i64(TS_2024).build();
    expect(decodePgOutput(buf)).toEqual({ tag: 'commit', commitLsn: 100n, endLsn: 120n, commitTimeMs: Date.UTC(2024, 0, 1) });
  });

  it('decodes a Relation with replica identity and per-column key flags, types and typmods', () => {
    const buf = new Bytes()
      .char('R')
      .u32(16384)
      .str('public')
      .str('policies')
      .char('f')
      .i16(2)
      .u8(1)
      .str('id')
      .u32(20)
      .i32(-1)
      .u8(0)
      .str('premium')
      .u32(1700)
      .i32(786438)
      .build();
    expect(decodePgOutput(buf)).toEqual({
      tag: 'relation',
      relationId: 16384,
      schema: 'public',
      table: 'policies',
      replicaIdentity: 'full',
      columns: [
        { identity: true, name: 'id', typeOid: 20, typeMod: -1 },
        { identity: false, name: 'premium', typeOid: 1700, typeMod: 786438 },
      ],
    });
  });

  it('decodes an Insert with null, text and UTF-8 values', () => {
    const buf = new Bytes().char('I').u32(7).char('N').i16(3).text('42').char('n').text('zoë').build();
    expect(decodePgOutput(buf)).toEqual({
      tag: 'insert',
      relationId: 7,
      newTuple: [{ kind: 'text', text: '42' }, { kind: 'null' }, { kind: 'text', text: 'zoë' }],
    });
  });

  it('decodes an Update with an old key and an unchanged TOASTed column', () => {
    const buf = new Bytes().char('U').u32(7).char('K').i16(2).text('1').char('n').char('N').i16(2).text('2').char('u').build();
    expect(decodePgOutput(buf)).toEqual({
      tag: 'update',
      relationId: 7,
      oldKind: 'key',
      oldTuple: [{ kind: 'text', text: '1' }, { kind: 'null' }],
      newTuple: [{ kind: 'text', text: '2' }, { kind: 'unchanged' }],
    });
  });

  it('decodes an Update without old tuple and one with a full old row', () => {
    expect(decodePgOutput(new Bytes().char('U').u32(7).char('N').i16(1).text('x').build())).toMatchObject({
      oldKind: null,
      oldTuple: null,
      newTuple: [{ kind: 'text', text: 'x' }],
    });
    expect(decodePgOutput(new Bytes().char('U').u32(7).char('O').i16(1).text('a').char('N').i16(1).text('b').build())).toMatchObject({
      oldKind: 'full',
      oldTuple: [{ text: 'a' }],
    });
  });

  it('decodes Delete with key or full old tuple', () => {
    expect(decodePgOutput(new Bytes().char('D').u32(7).char('K').i16(1).text('9').build())).toEqual({
      tag: 'delete',
      relationId: 7,
      oldKind: 'key',
      oldTuple: [{ kind: 'text', text: '9' }],
    });
    expect(decodePgOutput(new Bytes().char('D').u32(7).char('O').i16(1).text('9').build())).toMatchObject({ oldKind: 'full' });
  });

  it('decodes Truncate with its options and relations', () => {
    const buf = new Bytes().char('T').u32(2).u8(3).u32(7).u32(8).build();
    expect(decodePgOutput(buf)).toEqual({ tag: 'truncate', relationIds: [7, 8], cascade: true, restartIdentity: true });
  });

  it('decodes Type, Origin and logical Message', () => {
    expect(decodePgOutput(new Bytes().char('Y').u32(90000).str('public').str('mood').build())).toEqual({
      tag: 'type',
      typeOid: 90000,
      schema: 'public',
      name: 'mood',
    });
    expect(decodePgOutput(new Bytes().char('O').i64(5n).str('node1').build())).toEqual({ tag: 'origin', originLsn: 5n, name: 'node1' });
    const msg = decodePgOutput(new Bytes().char('M').u8(1).i64(9n).str('p').u32(2).raw(Buffer.from('hi')).build());
    expect(msg).toMatchObject({ tag: 'message', transactional: true, lsn: 9n, prefix: 'p' });
  });

  it('rejects truncated and unknown messages with a clear error', () => {
    expect(() => decodePgOutput(new Bytes().char('I').u32(7).char('N').i16(1).char('t').i32(10).raw(Buffer.from('abc')).build())).toThrow(/truncated/);
    expect(() => decodePgOutput(Buffer.from('Z'))).toThrow(/unknown pgoutput message "Z"/);
    expect(() => decodePgOutput(new Bytes().char('I').u32(7).char('N').i16(1).char('b').build())).toThrow(/binary/);
  });
});
