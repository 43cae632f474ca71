/** What every operation handler is given: the Kafka edge, the settings it needs, the clock and the caller's region. */
import type { ShardLimits } from '../limits';
import type { KinesisApiMetrics } from '../metrics';
import type { StreamStore } from '../stream-store';
import { KinesisApiError } from '../errors';

/** Kinesis answers name an account; the API has none, so it uses the placeholder local AWS endpoints use. */
export const ACCOUNT_ID = '000000000000';

export interface OperationContext {
  readonly store: StreamStore;
  readonly metrics: KinesisApiMetrics;
  /** Undefined when KINESIS_API_SHARD_LIMITS is off. */
  readonly limits?: ShardLimits;
  readonly iteratorSecret: Buffer;
  readonly iteratorTtlMs: number;
  readonly onDemandShards: number;
  /** Partitions of a topic created by Firehose's CreateDeliveryStream. */
  readonly firehosePartitions: number;
  readonly defaultRetentionHours: number;
  readonly nowMs: () => number;
  /** The region the request was signed for (us-east-1 without authentication). */
  readonly region: string;
}

export function streamArn(region: string, stream: string): string {
  return `arn:aws:kinesis:${region}:${ACCOUNT_ID}:stream/${stream}`;
}

export function streamNotFound(stream: string): KinesisApiError {
  return new KinesisApiError('ResourceNotFoundException', `Stream ${stream} under account ${ACCOUNT_ID} not found.`);
}

/** The stream's shard count (a recently known one with `recent`, for PutRecords and GetRecords); ResourceNotFoundException when it does not exist. */
export async function requireStream(ctx: OperationContext, stream: string, options: { recent?: boolean } = {}): Promise<number> {
  const shards = await (options.recent ? ctx.store.recentShardCount(stream) : ctx.store.shardCount(stream));
  if (shards === 0) throw streamNotFound(stream);
  return shards;
}

export const HOUR_MS = 3_600_000;
