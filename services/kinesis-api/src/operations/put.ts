/**
 * PutRecord and PutRecords: each record goes to the shard whose hash-key range holds the MD5 of its
 * partition key (or its ExplicitHashKey); the Kafka key is the partition key, the value the data,
 * the timestamp the arrival time. A record is acknowledged only once Kafka has it (acks=all).
 */
import { KinesisApiError } from '../errors';
import { recordBytes, type RecordInput, type Requests } from '../protocol/operations';
import { formatSequenceNumber } from '../sequence-number';
import { shardForRecord, shardId } from '../shard-map';
import { requireStream, type OperationContext } from './context';
import type { SendResult } from '../stream-store';

type Entry = { SequenceNumber: string; ShardId: string } | { ErrorCode: string; ErrorMessage: string };

function throttled(ctx: OperationContext, stream: string, partition: number, rec: RecordInput): boolean {
  if (!ctx.limits || ctx.limits.admitWrite(`${stream}/${partition}`, recordBytes(rec))) return false;
  ctx.metrics.throttledRecords.inc({ direction: 'write' });
  return true;
}

/** Admits, writes and reports each record, in request order. */
async function putAll(ctx: OperationContext, stream: string, records: readonly RecordInput[]): Promise<Entry[]> {
  const count = await requireStream(ctx, stream, { recent: true });
  const arrival = ctx.nowMs();
  const partitions = records.map((r) => shardForRecord(r.partitionKey, count, r.explicitHashKey));
  const admitted: number[] = [];
  const entries: Entry[] = records.map((rec, i) => {
    if (throttled(ctx, stream, partitions[i], rec)) {
      return {
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: `Rate exceeded for shard ${shardId(partitions[i])} in stream ${stream} under account 000000000000.`,
      };
    }
    admitted.push(i);
    return { ErrorCode: '', ErrorMessage: '' };
  });
  const sent: SendResult[] =
    admitted.length === 0
      ? []
      : await ctx.store.send(
          stream,
          admitted.map((i) => ({ partition: partitions[i], key: records[i].partitionKey, value: records[i].data, timestampMs: arrival })),
        );
  admitted.forEach((i, n) => {
    const r = sent[n];
    if ('offset' in r) {
      entries[i] = { SequenceNumber: formatSequenceNumber({ partition: partitions[i], offset: r.offset }), ShardId: shardId(partitions[i]) };
      ctx.metrics.recordsPut.inc();
      ctx.metrics.bytesPut.inc(recordBytes(records[i]));
    } else {
      entries[i] = { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' };
    }
  });
  return entries;
}

export async function putRecord(ctx: OperationContext, req: Requests['PutRecord']): Promise<Record<string, unknown>> {
  const [entry] = await putAll(ctx, req.streamName, [req]);
  if ('ErrorCode' in entry) {
    throw new KinesisApiError(entry.ErrorCode === 'InternalFailure' ? 'InternalFailure' : 'ProvisionedThroughputExceededException', entry.ErrorMessage);
  }
  return { ...entry, EncryptionType: 'NONE' };
}

export async function putRecords(ctx: OperationContext, req: Requests['PutRecords']): Promise<Record<string, unknown>> {
  const entries = await putAll(ctx, req.streamName, req.records);
  return { FailedRecordCount: entries.filter((e) => 'ErrorCode' in e).length, Records: entries, EncryptionType: 'NONE' };
}
