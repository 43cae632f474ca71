/**
 * The streaming-replication sub-protocol inside CopyBoth (PostgreSQL docs, "Streaming
 * Replication Protocol"): server messages XLogData ('w') and primary keepalive ('k'), and
 * the client's standby status update ('r'). Pure functions over buffers.
 */
import type { Lsn } from './lsn';

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

export function pgTimestampToEpochMs(pgMicros: bigint): number {
  return Number((pgMicros + PG_EPOCH_OFFSET_US) / 1000n);
}

export function epochMsToPgTimestamp(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 1000n - PG_EPOCH_OFFSET_US;
}

export interface XLogData {
  kind: 'xlog';
  /** WAL position where this message's data starts. */
  walStart: Lsn;
  /** Server's current end of WAL. */
  walEnd: Lsn;
  serverTimeMs: number;
  /** One pgoutput message. */
  data: Buffer;
}

export interface PrimaryKeepalive {
  kind: 'keepalive';
  walEnd: Lsn;
  serverTimeMs: number;
  replyRequested: boolean;
}

export type ReplicationMessage = XLogData | PrimaryKeepalive;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Parses the payload of one CopyData message sent by a walsender. */
export function parseReplicationMessage(buf: Buffer): ReplicationMessage {
  const tag = buf[0];
  if (tag === 0x77 /* w */) {
    if (buf.length < 25) throw new ProtocolError(`XLogData too short (${buf.length} bytes)`);
    return {
      kind: 'xlog',
      walStart: buf.readBigUInt64BE(1),
      walEnd: buf.readBigUInt64BE(9),
      serverTimeMs: pgTimestampToEpochMs(buf.readBigInt64BE(17)),
      data: buf.subarray(25),
    };
  }
  if (tag === 0x6b /* k */) {
    if (buf.length < 18) throw new ProtocolError(`keepalive too short (${buf.length} bytes)`);
    return { kind: 'keepalive', walEnd: buf.readBigUInt64BE(1), serverTimeMs: pgTimestampToEpochMs(buf.readBigInt64BE(9)), replyRequested: buf[17] === 1 };
  }
  throw new ProtocolError(`unknown replication message tag 0x${tag?.toString(16) ?? '??'}`);
}

/**
 * Standby status update. We report the same position as written, flushed and applied: the
 * server only uses `flush` to advance the slot's confirmed_flush_lsn.
 */
export function encodeStandbyStatus(flush: Lsn, nowMs: number, replyRequested: boolean): Buffer {
  const buf = Buffer.alloc(34);
  buf[0] = 0x72; // r
  buf.writeBigUInt64BE(flush, 1);
  buf.writeBigUInt64BE(flush, 9);
  buf.writeBigUInt64BE(flush, 17);
  buf.writeBigInt64BE(epochMsToPgTimestamp(nowMs), 25);
  buf[33] = replyRequested ? 1 : 0;
  return buf;
}
