import { encodeStandbyStatus, parseReplicationMessage, pgTimestampToEpochMs } from '../src/replication-protocol';
import { formatLsn, parseLsn } from '../src/lsn';

describe('LSN text form', () => {
  it('round-trips X/Y hex halves without rounding', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF'))).toBe('FFFFFFFF/FFFFFFFF');
    expect(() => parseLsn('12345')).toThrow(/not an LSN/);
  });
});

describe('replication messages', () => {
  it('parses XLogData and exposes the pgoutput payload', () => {
    const buf = Buffer.alloc(25 + 3);
    buf[0] = 0x77;
    buf.writeBigUInt64BE(10n, 1);
    buf.writeBigUInt64BE(20n, 9);
    buf.writeBigInt64BE(0n, 17);
    Buffer.from('abc').copy(buf, 25);
    const m = parseReplicationMessage(buf);
    expect(m).toMatchObject({ kind: 'xlog', walStart: 10n, walEnd: 20n, serverTimeMs: Date.UTC(2000, 0, 1) });
    expect(m.kind === 'xlog' && m.data.toString()).toBe('abc');
  });

  it('parses a primary keepalive with reply request', () => {
    const buf = Buffer.alloc(18);
    buf[0] = 0x6b;
    buf.writeBigUInt64BE(99n, 1);
    buf[17] = 1;
    expect(parseReplicationMessage(buf)).toMatchObject({ kind: 'keepalive', walEnd: 99n, replyRequested: true });
  });

  it('rejects unknown tags and short messages', () => {
    expect(() => parseReplicationMessage(Buffer.from('x'))).toThrow(/unknown replication message/);
    expect(() => parseReplicationMessage(Buffer.from('k'))).toThrow(/too short/);
  });

  it('encodes a standby status update with the flush position in all three fields', () => {
    const buf = encodeStandbyStatus(0x1234n, Date.UTC(2024, 0, 1), true);
    expect(buf.length).toBe(34);
    expect(buf[0]).toBe(0x72);
    expect(buf.readBigUInt64BE(1)).toBe(0x1234n);
    expect(buf.readBigUInt64BE(9)).toBe(0x1234n);
    expect(buf.readBigUInt64BE(17)).toBe(0x1234n);
    expect(pgTimestampToEpochMs(buf.readBigInt64BE(25))).toBe(Date.UTC(2024, 0, 1));
    expect(buf[33]).toBe(1);
  });
});
