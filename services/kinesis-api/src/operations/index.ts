/** Every served operation's handler, by name. */
import type { Operation, Requests } from '../protocol/operations';
import type { OperationContext } from './context';
import { describeStream, describeStreamSummary, listShards } from './describe';
import { putRecord, putRecords } from './put';
import { getRecords, getShardIterator } from './read';
import { decreaseRetention, increaseRetention } from './retention';
import { createStream, deleteStream, listStreams } from './streams';
import { addTags, listTags, removeTags } from './tags';

export type Handlers = { [O in Operation]: (ctx: OperationContext, req: Requests[O]) => Promise<Record<string, unknown>> };

export const HANDLERS: Handlers = {
  CreateStream: createStream,
  DeleteStream: deleteStream,
  ListStreams: listStreams,
  DescribeStream: describeStream,
  DescribeStreamSummary: describeStreamSummary,
  ListShards: listShards,
  PutRecord: putRecord,
  PutRecords: putRecords,
  GetShardIterator: getShardIterator,
  GetRecords: getRecords,
  IncreaseStreamRetentionPeriod: increaseRetention,
  DecreaseStreamRetentionPeriod: decreaseRetention,
  AddTagsToStream: addTags,
  ListTagsForStream: listTags,
  RemoveTagsFromStream: removeTags,
};
