/** DescribeStream, DescribeStreamSummary and ListShards: shards from the partition count, ranges from the shard map. */
import { KinesisApiError } from '../errors';
import type { Requests } from '../protocol/operations';
import { formatSequenceNumber } from '../sequence-number';
import { shardId, shardRange } from '../shard-map';
import { UNKNOWN_METADATA, type StreamMode } from '../stream-metadata';
import { HOUR_MS, requireStream, streamArn, type OperationContext } from './context';
import { MAX_RETENTION_HOURS } from '../protocol/operations';

export interface StreamSummary {
  readonly name: string;
  readonly mode: StreamMode;
  readonly createdAtMs: number;
}

/** Mode and creation time of each stream (defaults for a topic not created through the API). */
export async function describeSummaries(ctx: OperationContext, streams: readonly string[]): Promise<StreamSummary[]> {
  const metadata = streams.length === 0 ? new Map() : await ctx.store.metadata(streams);
  return streams.map((name) => ({ name, ...(metadata.get(name) ?? UNKNOWN_METADATA) }));
}

/** retention.ms in whole hours; unlimited (-1) or beyond Kinesis's maximum shows as the maximum. */
export function retentionHoursOf(ms: number): number {
  return ms < 0 ? MAX_RETENTION_HOURS : Math.min(MAX_RETENTION_HOURS, Math.floor(ms / HOUR_MS));
}

function shardDescription(partition: number, count: number, logStart: bigint | undefined) {
  const range = shardRange(partition, count);
  return {
    ShardId: shardId(partition),
    HashKeyRange: { StartingHashKey: range.startingHashKey.toString(), EndingHashKey: range.endingHashKey.toString() },
    SequenceNumberRange: { StartingSequenceNumber: formatSequenceNumber({ partition, offset: logStart ?? 0n }) },
  };
}

/** The shards from `first` on, at most `limit`. */
async function shards(ctx: OperationContext, stream: string, count: number, first: number, limit: number) {
  const starts = await ctx.store.startOffsets(stream);
  const out = [];
  for (let p = first; p < count && out.length < limit; p++) out.push(shardDescription(p, count, starts[p]));
  return out;
}

/** The shard after ExclusiveStartShardId: one past the last shard lists nothing, as on Kinesis; an id of another form starts at the first. */
function afterShard(id: string | undefined): number {
  if (id === undefined) return 0;
  const m = /^shardId-(\d{12})$/.exec(id);
  return m ? Number(m[1]) + 1 : 0;
}

async function summaryFields(ctx: OperationContext, stream: string) {
  const [summary] = await describeSummaries(ctx, [stream]);
  const retention = await ctx.store.retentionMs(stream);
  return {
    StreamName: stream,
    StreamARN: streamArn(ctx.region, stream),
    StreamStatus: 'ACTIVE',
    StreamModeDetails: { StreamMode: summary.mode },
    RetentionPeriodHours: retentionHoursOf(retention),
    StreamCreationTimestamp: new Date(summary.createdAtMs),
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: 'NONE',
  };
}

const DEFAULT_DESCRIBE_LIMIT = 100;

export async function describeStream(ctx: OperationContext, req: Requests['DescribeStream']): Promise<Record<string, unknown>> {
  const count = await requireStream(ctx, req.streamName);
  const first = afterShard(req.exclusiveStartShardId);
  const limit = req.limit ?? DEFAULT_DESCRIBE_LIMIT;
  const list = await shards(ctx, req.streamName, count, first, limit);
  return { StreamDescription: { ...(await summaryFields(ctx, req.streamName)), Shards: list, HasMoreShards: first + list.length < count } };
}

export async function describeStreamSummary(ctx: OperationContext, req: Requests['DescribeStreamSummary']): Promise<Record<string, unknown>> {
  const count = await requireStream(ctx, req.streamName);
  return { StreamDescriptionSummary: { ...(await summaryFields(ctx, req.streamName)), OpenShardCount: count, ConsumerCount: 0 } };
}

const DEFAULT_LIST_SHARDS = 1000;

interface ShardsToken {
  s: string;
  n: number;
}

function decodeShardsToken(token: string): ShardsToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ShardsToken;
    if (typeof t.s === 'string' && Number.isInteger(t.n) && t.n >= 0) return t;
  } catch {
    // answered below
  }
  throw new KinesisApiError('InvalidArgumentException', 'Invalid NextToken.');
}

export async function listShards(ctx: OperationContext, req: Requests['ListShards']): Promise<Record<string, unknown>> {
  const token = req.nextToken === undefined ? undefined : decodeShardsToken(req.nextToken);
  const stream = token?.s ?? req.streamName!;
  const count = await requireStream(ctx, stream);
  let first = token?.n ?? afterShard(req.exclusiveStartShardId);
  // Every shard is open, so the filters that start at a shard are the only ones that narrow the list.
  if (req.shardFilter?.type === 'AFTER_SHARD_ID') {
    if (req.shardFilter.shardId === undefined) throw new KinesisApiError('InvalidArgumentException', 'ShardFilter of type AFTER_SHARD_ID needs a ShardId.');
    first = Math.max(first, afterShard(req.shardFilter.shardId));
  }
  const limit = req.maxResults ?? DEFAULT_LIST_SHARDS;
  const list = await shards(ctx, stream, count, first, limit);
  const next = first + list.length;
  return { Shards: list, NextToken: next < count ? Buffer.from(JSON.stringify({ s: stream, n: next }), 'utf8').toString('base64url') : undefined };
}
