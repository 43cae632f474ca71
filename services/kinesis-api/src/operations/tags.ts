/** Add/List/RemoveTagsFromStream: tags live in the stream's record of the shared metadata topic. */
import { invalidArgument } from '../errors';
import type { Requests } from '../protocol/operations';
import { MAX_TAGS_PER_STREAM, UNKNOWN_METADATA, type StreamMetadata } from '../stream-metadata';
import { ACCOUNT_ID, requireStream, type OperationContext } from './context';

async function currentMetadata(ctx: OperationContext, stream: string): Promise<StreamMetadata> {
  await requireStream(ctx, stream);
  return (await ctx.store.metadata([stream])).get(stream) ?? UNKNOWN_METADATA;
}

export async function addTags(ctx: OperationContext, req: Requests['AddTagsToStream']): Promise<Record<string, unknown>> {
  const m = await currentMetadata(ctx, req.streamName);
  const tags = { ...m.tags, ...req.tags };
  if (Object.keys(tags).length > MAX_TAGS_PER_STREAM) {
    throw invalidArgument(
      `Failed to add tags to stream ${req.streamName} under account ${ACCOUNT_ID} because a given stream cannot have more than ${MAX_TAGS_PER_STREAM} tags.`,
    );
  }
  await ctx.store.putMetadata(req.streamName, { ...m, tags });
  return {};
}

export async function removeTags(ctx: OperationContext, req: Requests['RemoveTagsFromStream']): Promise<Record<string, unknown>> {
  const m = await currentMetadata(ctx, req.streamName);
  const tags = Object.fromEntries(Object.entries(m.tags).filter(([k]) => !req.tagKeys.includes(k)));
  await ctx.store.putMetadata(req.streamName, { ...m, tags });
  return {};
}

const DEFAULT_TAG_LIMIT = 50;

export async function listTags(ctx: OperationContext, req: Requests['ListTagsForStream']): Promise<Record<string, unknown>> {
  const m = await currentMetadata(ctx, req.streamName);
  const after = req.exclusiveStartTagKey;
  const keys = Object.keys(m.tags)
    .sort()
    .filter((k) => after === undefined || k > after);
  const page = keys.slice(0, req.limit ?? DEFAULT_TAG_LIMIT);
  return { Tags: page.map((k) => ({ Key: k, Value: m.tags[k] })), HasMoreTags: keys.length > page.length };
}
