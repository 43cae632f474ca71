/**
 * PostgreSQL log sequence numbers. On the wire they are uint64; in text `16/B374D848`.
 * Kept as bigint inside the service so no position is ever rounded.
 */
export type Lsn = bigint;

export const ZERO_LSN: Lsn = 0n;

/** Parses `X/Y` (two hex halves) into a bigint; throws on anything else. */
export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: "${text}"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The LSN as a JSON number for `source.lsn` (exact below 2^53, i.e. the first 8 PiB of WAL). */
export function lsnToNumber(lsn: Lsn): number {
  return Number(lsn);
}
