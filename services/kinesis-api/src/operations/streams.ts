/** CreateStream, DeleteStream and ListStreams: a stream is a topic. */
import { KinesisApiError } from '../errors';
import type { Requests } from '../protocol/operations';
import { ACCOUNT_ID, HOUR_MS, requireStream, streamArn, type OperationContext } from './context';
import { describeSummaries } from './describe';

export async function createStream(ctx: OperationContext, req: Requests['CreateStream']): Promise<Record<string, unknown>> {
  const shards = req.mode === 'ON_DEMAND' ? ctx.onDemandShards : req.shardCount!;
  const metadata = { mode: req.mode, createdAtMs: ctx.nowMs(), tags: req.tags ?? {} };
  const created = await ctx.store.createStream(req.streamName, shards, ctx.defaultRetentionHours * HOUR_MS, metadata);
  if (!created) throw new KinesisApiError('ResourceInUseException', `Stream ${req.streamName} under account ${ACCOUNT_ID} already exists.`);
  return {};
}

export async function deleteStream(ctx: OperationContext, req: Requests['DeleteStream']): Promise<Record<string, unknown>> {
  await requireStream(ctx, req.streamName);
  await ctx.store.deleteStream(req.streamName);
  return {};
}

const DEFAULT_LIST_LIMIT = 100;

/** NextToken of ListStreams: the last name returned, opaque to clients. */
function decodeListToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '') throw new KinesisApiError('InvalidArgumentException', 'Invalid NextToken.');
  return name;
}

export async function listStreams(ctx: OperationContext, req: Requests['ListStreams']): Promise<Record<string, unknown>> {
  const after = req.nextToken !== undefined ? decodeListToken(req.nextToken) : req.exclusiveStartStreamName;
  const all = await ctx.store.listStreams();
  const from = after === undefined ? all : all.filter((s) => s > after);
  const limit = req.limit ?? DEFAULT_LIST_LIMIT;
  const page = from.slice(0, limit);
  const more = from.length > page.length;
  const summaries = await describeSummaries(ctx, page);
  return {
    StreamNames: page,
    HasMoreStreams: more,
    NextToken: more ? Buffer.from(page[page.length - 1], 'utf8').toString('base64url') : undefined,
    StreamSummaries: summaries.map((s) => ({
      StreamName: s.name,
      StreamARN: streamArn(ctx.region, s.name),
      StreamStatus: 'ACTIVE',
      StreamModeDetails: { StreamMode: s.mode },
      StreamCreationTimestamp: new Date(s.createdAtMs),
    })),
  };
}
