/**
 * GetShardIterator and GetRecords: an iterator is a signed position (stream, shard, next offset);
 * GetRecords reads committed records from there with no consumer group and hands back the next
 * position. Records from topics written by other services read the same way: a record without a
 * Kafka key has the partition key "", and tombstones (null values) are passed over.
 */
import { KinesisApiError } from '../errors';
import { nextFetch, NOTHING_READ, type GetRecordsProgress } from '../get-records-plan';
import { Deferred, StreamedList } from '../protocol/json-writer';
import { MAX_GET_RECORDS, type Requests } from '../protocol/operations';
import { formatSequenceNumberAt, sequenceNumberOffset } from '../sequence-number';
import { ACCOUNT_ID, requireStream, type OperationContext } from './context';
import { parseShardId, shardId } from '../shard-map';
import { decodeShardIterator, encodeShardIterator, type IteratorPosition } from '../shard-iterator';

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

/** One record of a GetRecords answer. */
interface AnsweredRecord {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: Date;
  Data: Buffer;
  PartitionKey: string;
}

/** One GetRecords in progress: fetch after fetch from its position (get-records-plan.ts), and what it answered. */
class ShardRead {
  private progress: GetRecordsProgress = NOTHING_READ;
  private offset: bigint;
  private highWatermark = 0n;
  private lastTimestamp?: number;

  constructor(
    private readonly ctx: OperationContext,
    private readonly position: IteratorPosition,
    private readonly limit: number,
  ) {
    this.offset = position.offset;
  }

  /** Nothing more to fetch for this answer. */
  get done(): boolean {
    return nextFetch(this.progress, this.limit) === undefined;
  }

  /** The next fetch's records (tombstones passed over), or undefined when the answer is complete. */
  async fetch(): Promise<AnsweredRecord[] | undefined> {
    const bounds = nextFetch(this.progress, this.limit);
    if (!bounds) return undefined;
    const { stream, partition } = this.position;
    const read = await this.ctx.store.read(stream, partition, this.offset, bounds.maxRecords, bounds.maxBytes);
    let bytes = 0;
    const records: AnsweredRecord[] = [];
    for (const m of read.messages) {
      // A Kafka tombstone (null value) marks a deleted key for log compaction; it is not data, and a
      // Kinesis consumer would see an empty record. It is passed over: the next iterator is past it.
      if (m.value === null) continue;
      const partitionKey = m.key?.toString('utf8') ?? '';
      bytes += m.value.length + Buffer.byteLength(partitionKey, 'utf8');
      records.push({
        SequenceNumber: formatSequenceNumberAt(partition, m.offset),
        ApproximateArrivalTimestamp: new Date(m.timestamp),
        Data: m.value,
        PartitionKey: partitionKey,
      });
    }
    const next = BigInt(read.nextOffset);
    this.highWatermark = BigInt(read.highWatermark);
    const last = read.messages[read.messages.length - 1];
    if (last !== undefined) this.lastTimestamp = last.timestamp;
    this.progress = {
      fetches: this.progress.fetches + 1,
      records: this.progress.records + records.length,
      bytes: this.progress.bytes + bytes,
      atEnd: next >= this.highWatermark,
      moved: next > this.offset,
    };
    this.offset = next;
    this.ctx.limits?.chargeRead(`${stream}/${partition}`, bytes);
    this.ctx.metrics.recordsRead.inc(records.length);
    this.ctx.metrics.bytesRead.inc(bytes);
    return records;
  }

  /** The records of `first` and of every further fetch. A fetch that fails ends the answer where it is: the iterator goes on from there. */
  async *records(first: AnsweredRecord[]): AsyncGenerator<AnsweredRecord[]> {
    yield first;
    for (;;) {
      let records: AnsweredRecord[] | undefined;
      try {
        records = await this.fetch();
      } catch {
        return;
      }
      if (!records) return;
      yield records;
    }
  }

  nextShardIterator(): string {
    const { stream, partition } = this.position;
    return encodeShardIterator({ stream, partition, offset: this.offset }, iteratorKey(this.ctx));
  }

  millisBehindLatest(): number {
    const caughtUp = this.offset >= this.highWatermark;
    return caughtUp || this.lastTimestamp === undefined ? 0 : Math.max(0, this.ctx.nowMs() - this.lastTimestamp);
  }
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
  const read = new ShardRead(ctx, position, req.limit ?? MAX_GET_RECORDS);
  // The first fetch before any answer: its failure is answered as an error.
  const first = (await read.fetch()) ?? [];
  if (read.done) {
    return { Records: first, NextShardIterator: read.nextShardIterator(), MillisBehindLatest: read.millisBehindLatest() };
  }
  // More to fetch: the records are written as each fetch brings them, and what follows them once they are.
  return {
    Records: new StreamedList(read.records(first)),
    NextShardIterator: new Deferred(() => read.nextShardIterator()),
    MillisBehindLatest: new Deferred(() => read.millisBehindLatest()),
  };
}
