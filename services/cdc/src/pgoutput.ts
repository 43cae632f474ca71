/**
 * Decoder for the messages of PostgreSQL's built-in `pgoutput` plugin, protocol version 1
 * (PostgreSQL docs, "Logical Replication Message Formats"). Pure: one buffer in, one object out.
 */
import type { Lsn } from './lsn';
import { pgTimestampToEpochMs, ProtocolError } from './replication-protocol';

/** One column value of a TupleData: null, an unchanged TOASTed value the WAL did not carry, or text. */
export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string };

export interface RelationColumn {
  /** Part of the replica identity (with REPLICA IDENTITY FULL: every column). */
  identity: boolean;
  name: string;
  typeOid: number;
  typeMod: number;
}

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTimeMs: number; xid: number }
  | { tag: 'commit'; commitLsn: Lsn; endLsn: Lsn; commitTimeMs: number }
  | { tag: 'origin'; originLsn: Lsn; name: string }
  | { tag: 'relation'; relationId: number; schema: string; table: string; replicaIdentity: ReplicaIdentity; columns: RelationColumn[] }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; newTuple: TupleValue[] }
  /** `oldTuple` is present only when the key changed ('K') or with REPLICA IDENTITY FULL ('O'). */
  | { tag: 'update'; relationId: number; oldKind: 'key' | 'full' | null; oldTuple: TupleValue[] | null; newTuple: TupleValue[] }
  | { tag: 'delete'; relationId: number; oldKind: 'key' | 'full'; oldTuple: TupleValue[] }
  | { tag: 'truncate'; relationIds: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer };

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** NUL-terminated string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError('unterminated string in pgoutput message');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  private need(n: number) {
    if (this.pos + n > this.buf.length) throw new ProtocolError(`pgoutput message truncated (need ${n} bytes at ${this.pos} of ${this.buf.length})`);
  }
}

function readTuple(r: Reader): TupleValue[] {
  const n = r.i16();
  const out: TupleValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0x6e /* n */) out[i] = { kind: 'null' };
    else if (kind === 0x75 /* u */) out[i] = { kind: 'unchanged' };
    else if (kind === 0x74 /* t */) {
      const len = r.i32();
      out[i] = { kind: 'text', text: r.bytes(len).toString('utf8') };
    } else throw new ProtocolError(`unsupported tuple column kind 0x${kind.toString(16)} (binary mode is not used)`);
  }
  return out;
}

export function decodePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const tag = String.fromCharCode(r.u8());
  switch (tag) {
    case 'B': {
      const finalLsn = r.u64();
      const commitTimeMs = pgTimestampToEpochMs(r.i64());
      return { tag: 'begin', finalLsn, commitTimeMs, xid: r.u32() };
    }
    case 'C': {
      r.u8(); // flags, unused
      const commitLsn = r.u64();
      const endLsn = r.u64();
      return { tag: 'commit', commitLsn, endLsn, commitTimeMs: pgTimestampToEpochMs(r.i64()) };
    }
    case 'O': {
      const originLsn = r.u64();
      return { tag: 'origin', originLsn, name: r.cstring() };
    }
    case 'R': {
      const relationId = r.u32();
      const schema = r.cstring();
      const table = r.cstring();
      const identChar = String.fromCharCode(r.u8());
      const replicaIdentity = IDENTITY[identChar];
      if (!replicaIdentity) throw new ProtocolError(`unknown replica identity "${identChar}"`);
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        const name = r.cstring();
        const typeOid = r.u32();
        columns.push({ identity: (flags & 1) === 1, name, typeOid, typeMod: r.i32() });
      }
      return { tag: 'relation', relationId, schema, table, replicaIdentity, columns };
    }
    case 'Y': {
      const typeOid = r.u32();
      const schema = r.cstring();
      return { tag: 'type', typeOid, schema, name: r.cstring() };
    }
    case 'I': {
      const relationId = r.u32();
      const n = r.u8();
      if (n !== 0x4e /* N */) throw new ProtocolError('insert without new tuple');
      return { tag: 'insert', relationId, newTuple: readTuple(r) };
    }
    case 'U': {
      const relationId = r.u32();
      let kind = r.u8();
      let oldKind: 'key' | 'full' | null = null;
      let oldTuple: TupleValue[] | null = null;
      if (kind === 0x4b /* K */ || kind === 0x4f /* O */) {
        oldKind = kind === 0x4b ? 'key' : 'full';
        oldTuple = readTuple(r);
        kind = r.u8();
      }
      if (kind !== 0x4e) throw new ProtocolError('update without new tuple');
      return { tag: 'update', relationId, oldKind, oldTuple, newTuple: readTuple(r) };
    }
    case 'D': {
      const relationId = r.u32();
      const kind = r.u8();
      if (kind !== 0x4b && kind !== 0x4f) throw new ProtocolError('delete without old tuple');
      return { tag: 'delete', relationId, oldKind: kind === 0x4b ? 'key' : 'full', oldTuple: readTuple(r) };
    }
    case 'T': {
      const n = r.u32();
      const options = r.u8();
      const relationIds: number[] = [];
      for (let i = 0; i < n; i++) relationIds.push(r.u32());
      return { tag: 'truncate', relationIds, cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2 };
    }
    case 'M': {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      const len = r.u32();
      return { tag: 'message', transactional: (flags & 1) === 1, lsn, prefix, content: r.bytes(len) };
    }
    default:
      throw new ProtocolError(`unknown pgoutput message "${tag}"`);
  }
}
