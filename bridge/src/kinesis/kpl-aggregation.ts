/**
 * The KPL aggregated record format, which the KCL and the awslabs de-aggregation libraries
 * unpack: 4 magic bytes, a protobuf `AggregatedRecord`, and the MD5 of that protobuf.
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1;
 *                              repeated string explicit_hash_key_table = 2;
 *                              repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *                    required bytes data = 3; }
 *
 * The bridge aggregates records of one partition key only, so a unit keeps that key's order and
 * lands on that key's shard.
 */
import { createHash } from 'node:crypto';

export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
/** Magic + MD5 trailer. */
export const KPL_FRAMING_BYTES = KPL_MAGIC.length + 16;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function field(tag: number, payload: Buffer): Buffer[] {
  // wire type 2 = length-delimited
  return [varint((tag << 3) | 2), varint(payload.length), payload];
}

/** Upper bound of the bytes one record adds to an aggregate (protobuf framing included). */
export function aggregatedRecordOverhead(dataBytes: number): number {
  return dataBytes + 2 * 5 + 4;
}

/** Encodes records that share `partitionKey` into one aggregated Kinesis record. */
export function aggregate(partitionKey: string, records: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [...field(1, Buffer.from(partitionKey, 'utf8'))];
  for (const data of records) {
    // Record { partition_key_index = 0 (varint field 1), data (field 3) }
    const inner = Buffer.concat([Buffer.from([0x08, 0x00]), ...field(3, data)]);
    parts.push(...field(3, inner));
  }
  const body = Buffer.concat(parts);
  const md5 = createHash('md5').update(body).digest();
  return Buffer.concat([KPL_MAGIC, body, md5]);
}

/** Bytes of `aggregate(partitionKey, records)` without building it. */
export function aggregatedSize(partitionKey: string, dataSizes: readonly number[]): number {
  const pk = Buffer.byteLength(partitionKey, 'utf8');
  let n = 1 + varint(pk).length + pk;
  for (const d of dataSizes) {
    const inner = 2 + 1 + varint(d).length + d;
    n += 1 + varint(inner).length + inner;
  }
  return KPL_FRAMING_BYTES + n;
}
