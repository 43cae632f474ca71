/**
 * GetShardIterator and GetRecords: an iterator is a signed position (stream, shard, next offset);
 * GetRecords reads committed records from there with no consumer group and hands back the next
 * position. Records from topics written by other services read the same way: a record without a
 * Kafka key has the partition key "", and tombstones (null values) are passed over.
 */
import { KinesisApiError } from '../errors';
import { MAX_GET_RECORDS, MAX_GET_RECORDS_BYTES, type Requests } from '../protocol/operations';
import { formatSequenceNumberAt, sequenceNumberOffset } from '../sequence-number';
import { ACCOUNT_ID, requireStream, type OperationContext } from './context';
import { parseShardId, shardId } from '../shard-map';
import { decodeShardIterator, encodeShardIterator } from '../shard-iterator';

function iteratorKey(ctx: OperationContext) {
  return { secret: ctx.iteratorSecret, nowMs: ctx.nowMs(), ttlMs: ctx.iteratorTtlMs };
}

async function startOffset(ctx: OperationContext, req: Requests['GetShardIterator'], partition: number): Promise<bigint> {
  switch (req.type) {
    case 'TRIM_HORIZON':
      return (await ctx.store.startOffsets(req.streamName))[partition] ?? 0n;
    case 'LATEST':
      return (await ctx.store.endOffsets(req.streamName))[partition] ?? 0n;
    case 'AT_SEQUENCE_NUMBER':
      return sequenceNumberOffset(req.startingSequenceNumber!, partition, req.streamName);
    case 'AFTER_SEQUENCE_NUMBER':
      return sequenceNumberOffset(req.startingSequenceNumber!, partition, req.streamName) + 1n;
    case 'AT_TIMESTAMP':
      return (await ctx.store.offsetsForTimestamp(req.streamName, req.timestamp!.getTime()))[partition] ?? 0n;
  }
}

export async function getShardIterator(ctx: OperationContext, req: Requests['GetShardIterator']): Promise<Record<string, unknown>> {
  const count = await requireStream(ctx, req.streamName);
  const partition = parseShardId(req.shardId, { name: req.streamName, shardCount: count, accountId: ACCOUNT_ID });
  const offset = await startOffset(ctx, req, partition);
  return { ShardIterator: encodeShardIterator({ stream: req.streamName, partition, offset }, iteratorKey(ctx)) };
}

export async function getRecords(ctx: OperationContext, req: Requests['GetRecords']): Promise<Record<string, unknown>> {
  const position = decodeShardIterator(req.shardIterator, iteratorKey(ctx));
  const count = await requireStream(ctx, position.stream, { recent: true });
  if (position.partition >= count) {
    throw new KinesisApiError(
      'ResourceNotFoundException',
      `Shard ${shardId(position.partition)} in stream ${position.stream} under account ${ACCOUNT_ID} does not exist`,
    );
  }
  const limitKey = `${position.stream}/${position.partition}`;
  if (ctx.limits && !ctx.limits.admitRead(limitKey)) {
    ctx.metrics.throttledRecords.inc({ direction: 'read' });
    throw new KinesisApiError(
      'ProvisionedThroughputExceededException',
      `Rate exceeded for shard ${shardId(position.partition)} in stream ${position.stream} under account ${ACCOUNT_ID}.`,
    );
  }
  const read = await ctx.store.read(position.stream, position.partition, position.offset, req.limit ?? MAX_GET_RECORDS, MAX_GET_RECORDS_BYTES);
  let bytes = 0;
  // A Kafka tombstone (null value) marks a deleted key for log compaction; it is not data, and a
  // Kinesis consumer would see an empty record. It is passed over: the next iterator is past it.
  const records = read.messages.flatMap((m) => {
    if (m.value === null) return [];
    const data = m.value;
    const partitionKey = m.key?.toString('utf8') ?? '';
    bytes += data.length + Buffer.byteLength(partitionKey, 'utf8');
    return [
      {
        SequenceNumber: formatSequenceNumberAt(position.partition, m.offset),
        ApproximateArrivalTimestamp: new Date(m.timestamp),
        Data: data,
        PartitionKey: partitionKey,
      },
    ];
  });
  ctx.limits?.chargeRead(limitKey, bytes);
  ctx.metrics.recordsRead.inc(records.length);
  ctx.metrics.bytesRead.inc(bytes);
  const next = BigInt(read.nextOffset);
  const last = read.messages[read.messages.length - 1];
  const caughtUp = next >= BigInt(read.highWatermark);
  return {
    Records: records,
    NextShardIterator: encodeShardIterator({ stream: position.stream, partition: position.partition, offset: next }, iteratorKey(ctx)),
    MillisBehindLatest: caughtUp || last === undefined ? 0 : Math.max(0, ctx.nowMs() - last.timestamp),
  };
}
