/**
 * The operations the API serves and their inputs, read and checked against Kinesis's documented
 * constraints (lengths, patterns, ranges, PutRecords' 500 records and 5 MiB, a record's 1 MiB),
 * with the errors Kinesis gives. What needs the stream itself (does the shard exist, is the new
 * retention longer) is decided by the operation, not here. Pure.
 */
import { invalidArgument } from '../errors';
import { MemberReader } from './members';
import { servedOperation } from './targets';
import { TARGET_PREFIX, type WireFormat } from './wire';

export const OPERATIONS = [
  'CreateStream',
  'DeleteStream',
  'ListStreams',
  'DescribeStream',
  'DescribeStreamSummary',
  'ListShards',
  'PutRecord',
  'PutRecords',
  'GetShardIterator',
  'GetRecords',
  'IncreaseStreamRetentionPeriod',
  'DecreaseStreamRetentionPeriod',
  'AddTagsToStream',
  'ListTagsForStream',
  'RemoveTagsFromStream',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export const MIB = 1024 * 1024;
/** Data + partition key of one record. */
export const MAX_RECORD_BYTES = MIB;
export const MAX_PUT_RECORDS = 500;
export const MAX_PUT_RECORDS_BYTES = 5 * MIB;
export const MAX_GET_RECORDS = 10_000;
/** Kinesis's bound on what one GetRecords returns. */
export const MAX_GET_RECORDS_BYTES = 10 * MIB;
export const MIN_RETENTION_HOURS = 24;
export const MAX_RETENTION_HOURS = 8760;

const STREAM_NAME = { min: 1, max: 128, pattern: /[a-zA-Z0-9_.-]+/ };
const STREAM_ARN = { min: 1, max: 2048, pattern: /arn:aws.*:kinesis:.*:\d{12}:stream\/\S+/ };
const SHARD_ID = { min: 1, max: 128, pattern: /[a-zA-Z0-9_.-]+/ };
const HASH_KEY = { pattern: /0|([1-9]\d{0,38})/ };
const SEQUENCE_NUMBER = { pattern: /0|([1-9]\d{0,128})/ };
const PARTITION_KEY = { min: 1, max: 256 };
const TAG_KEY = { min: 1, max: 128 };
const TAG_VALUE = { min: 0, max: 256 };
const STREAM_MODES = ['PROVISIONED', 'ON_DEMAND'] as const;
export const SHARD_ITERATOR_TYPES = ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER', 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const;
export type ShardIteratorType = (typeof SHARD_ITERATOR_TYPES)[number];
const SHARD_FILTER_TYPES = ['AFTER_SHARD_ID', 'AT_TRIM_HORIZON', 'FROM_TRIM_HORIZON', 'AT_LATEST', 'AT_TIMESTAMP', 'FROM_TIMESTAMP'] as const;

/** The operation an `X-Amz-Target` header names; UnknownOperationException for anything else. */
export function operationOf(target: string | undefined): Operation {
  return servedOperation(target, TARGET_PREFIX, OPERATIONS);
}

/** The stream a request names, by StreamName or StreamARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`). */
function streamName(r: MemberReader): string {
  const name = r.string('StreamName', STREAM_NAME);
  const arn = r.string('StreamARN', STREAM_ARN);
  const fromArn = arn === undefined ? undefined : /:stream\/(.+)$/.exec(arn)?.[1];
  if (name !== undefined && fromArn !== undefined && name !== fromArn) throw invalidArgument(`StreamARN ${arn} does not name stream ${name}`);
  if (name === undefined && arn === undefined) r.problem('StreamName', undefined, 'Member must not be null (give StreamName or StreamARN)');
  return name ?? fromArn ?? '';
}

function retentionHours(r: MemberReader): number {
  const hours = r.int('RetentionPeriodHours', { required: true, min: 1 });
  r.done();
  if (hours! < MIN_RETENTION_HOURS)
    throw invalidArgument(`Minimum allowed retention period is ${MIN_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too short.`);
  if (hours! > MAX_RETENTION_HOURS)
    throw invalidArgument(`Maximum allowed retention period is ${MAX_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too long.`);
  return hours!;
}

export interface RecordInput {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
}

function record(r: MemberReader): RecordInput {
  const data = r.blob('Data', { required: true, max: MIB });
  const partitionKey = r.string('PartitionKey', { required: true, ...PARTITION_KEY });
  const explicitHashKey = r.string('ExplicitHashKey', HASH_KEY);
  return { data: data!, partitionKey: partitionKey!, explicitHashKey };
}

/** Bytes a record counts against Kinesis's limits: its data and its partition key. */
export function recordBytes(rec: RecordInput): number {
  return rec.data.length + Buffer.byteLength(rec.partitionKey, 'utf8');
}

export interface Requests {
  CreateStream: { streamName: string; shardCount?: number; mode: (typeof STREAM_MODES)[number]; tags?: Record<string, string> };
  DeleteStream: { streamName: string; enforceConsumerDeletion: boolean };
  ListStreams: { limit?: number; exclusiveStartStreamName?: string; nextToken?: string };
  DescribeStream: { streamName: string; limit?: number; exclusiveStartShardId?: string };
  DescribeStreamSummary: { streamName: string };
  ListShards: {
    streamName?: string;
    nextToken?: string;
    exclusiveStartShardId?: string;
    maxResults?: number;
    shardFilter?: { type: string; shardId?: string; timestamp?: Date };
  };
  PutRecord: RecordInput & { streamName: string; sequenceNumberForOrdering?: string };
  PutRecords: { streamName: string; records: RecordInput[] };
  GetShardIterator: { streamName: string; shardId: string; type: ShardIteratorType; startingSequenceNumber?: string; timestamp?: Date };
  GetRecords: { shardIterator: string; limit?: number };
  IncreaseStreamRetentionPeriod: { streamName: string; retentionPeriodHours: number };
  DecreaseStreamRetentionPeriod: { streamName: string; retentionPeriodHours: number };
  AddTagsToStream: { streamName: string; tags: Record<string, string> };
  ListTagsForStream: { streamName: string; exclusiveStartTagKey?: string; limit?: number };
  RemoveTagsFromStream: { streamName: string; tagKeys: string[] };
}

type Readers = { [O in Operation]: (r: MemberReader) => Requests[O] };

const READERS: Readers = {
  CreateStream(r) {
    const shardCount = r.int('ShardCount', { min: 1 });
    const mode = r.structure('StreamModeDetails', (m) => m.enum('StreamMode', STREAM_MODES, { required: true })) ?? 'PROVISIONED';
    const tags = r.stringMap('Tags', { max: 200, key: TAG_KEY, value: TAG_VALUE });
    const name = streamName(r);
    r.done();
    if (mode === 'PROVISIONED' && shardCount === undefined) throw invalidArgument('ShardCount is required for a stream in PROVISIONED mode.');
    if (mode === 'ON_DEMAND' && shardCount !== undefined) throw invalidArgument('ShardCount must not be given for a stream in ON_DEMAND mode.');
    return { streamName: name, shardCount, mode, tags };
  },
  DeleteStream(r) {
    const enforce = r.bool('EnforceConsumerDeletion') ?? false;
    const name = streamName(r);
    r.done();
    return { streamName: name, enforceConsumerDeletion: enforce };
  },
  ListStreams(r) {
    const limit = r.int('Limit', { min: 1, max: 10_000 });
    const exclusiveStartStreamName = r.string('ExclusiveStartStreamName', STREAM_NAME);
    const nextToken = r.string('NextToken', { min: 1, max: 1_048_576 });
    r.done();
    return { limit, exclusiveStartStreamName, nextToken };
  },
  DescribeStream(r) {
    const limit = r.int('Limit', { min: 1, max: 10_000 });
    const exclusiveStartShardId = r.string('ExclusiveStartShardId', SHARD_ID);
    const name = streamName(r);
    r.done();
    return { streamName: name, limit, exclusiveStartShardId };
  },
  DescribeStreamSummary(r) {
    const name = streamName(r);
    r.done();
    return { streamName: name };
  },
  ListShards(r) {
    const nextToken = r.string('NextToken', { min: 1, max: 1_048_576 });
    const exclusiveStartShardId = r.string('ExclusiveStartShardId', SHARD_ID);
    const maxResults = r.int('MaxResults', { min: 1, max: 10_000 });
    r.timestamp('StreamCreationTimestamp');
    const shardFilter = r.structure('ShardFilter', (f) => ({
      type: f.enum('Type', SHARD_FILTER_TYPES, { required: true })!,
      shardId: f.string('ShardId', SHARD_ID),
      timestamp: f.timestamp('Timestamp'),
    }));
    // With a NextToken the stream is in the token; otherwise it must be named.
    const name = r.has('StreamName') || r.has('StreamARN') || nextToken === undefined ? streamName(r) : undefined;
    r.done();
    if (nextToken !== undefined && (name !== undefined || exclusiveStartShardId !== undefined)) {
      throw invalidArgument('NextToken cannot be provided along with StreamName or ExclusiveStartShardId.');
    }
    return { streamName: name, nextToken, exclusiveStartShardId, maxResults, shardFilter };
  },
  PutRecord(r) {
    const rec = record(r);
    const sequenceNumberForOrdering = r.string('SequenceNumberForOrdering', SEQUENCE_NUMBER);
    const name = streamName(r);
    r.done();
    if (recordBytes(rec) > MAX_RECORD_BYTES)
      throw invalidArgument(`Record size (data and partition key, ${recordBytes(rec)} bytes) exceeds the limit of ${MAX_RECORD_BYTES} bytes.`);
    return { ...rec, streamName: name, sequenceNumberForOrdering };
  },
  PutRecords(r) {
    const records = r.structures('Records', record, { required: true, min: 1, max: MAX_PUT_RECORDS });
    const name = streamName(r);
    r.done();
    let total = 0;
    for (const [i, rec] of records!.entries()) {
      const bytes = recordBytes(rec);
      if (bytes > MAX_RECORD_BYTES)
        throw invalidArgument(`Record ${i} size (data and partition key, ${bytes} bytes) exceeds the limit of ${MAX_RECORD_BYTES} bytes.`);
      total += bytes;
    }
    if (total > MAX_PUT_RECORDS_BYTES)
      throw invalidArgument(`Records size (${total} bytes) exceeds the limit of ${MAX_PUT_RECORDS_BYTES} bytes per PutRecords request.`);
    return { streamName: name, records: records! };
  },
  GetShardIterator(r) {
    const shardId = r.string('ShardId', { required: true, ...SHARD_ID });
    const type = r.enum('ShardIteratorType', SHARD_ITERATOR_TYPES, { required: true });
    const startingSequenceNumber = r.string('StartingSequenceNumber', SEQUENCE_NUMBER);
    const timestamp = r.timestamp('Timestamp');
    const name = streamName(r);
    r.done();
    if ((type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') && startingSequenceNumber === undefined) {
      throw invalidArgument(`Must specify StartingSequenceNumber for ${type} ShardIteratorType.`);
    }
    if (type !== 'AT_SEQUENCE_NUMBER' && type !== 'AFTER_SEQUENCE_NUMBER' && startingSequenceNumber !== undefined) {
      throw invalidArgument(`Request should not have StartingSequenceNumber for ${type} ShardIteratorType.`);
    }
    if (type === 'AT_TIMESTAMP' && timestamp === undefined) throw invalidArgument('Must specify timestamp for AT_TIMESTAMP ShardIteratorType.');
    if (type !== 'AT_TIMESTAMP' && timestamp !== undefined) throw invalidArgument(`Request should not have timestamp for ${type} ShardIteratorType.`);
    return { streamName: name, shardId: shardId!, type: type!, startingSequenceNumber, timestamp };
  },
  GetRecords(r) {
    const shardIterator = r.string('ShardIterator', { required: true, min: 1, max: 512 });
    const limit = r.int('Limit', { min: 1, max: MAX_GET_RECORDS });
    r.string('StreamARN', STREAM_ARN);
    r.done();
    return { shardIterator: shardIterator!, limit };
  },
  IncreaseStreamRetentionPeriod(r) {
    const name = streamName(r);
    return { streamName: name, retentionPeriodHours: retentionHours(r) };
  },
  DecreaseStreamRetentionPeriod(r) {
    const name = streamName(r);
    return { streamName: name, retentionPeriodHours: retentionHours(r) };
  },
  AddTagsToStream(r) {
    const tags = r.stringMap('Tags', { required: true, min: 1, max: 200, key: TAG_KEY, value: TAG_VALUE });
    const name = streamName(r);
    r.done();
    return { streamName: name, tags: tags! };
  },
  ListTagsForStream(r) {
    const exclusiveStartTagKey = r.string('ExclusiveStartTagKey', TAG_KEY);
    const limit = r.int('Limit', { min: 1, max: 50 });
    const name = streamName(r);
    r.done();
    return { streamName: name, exclusiveStartTagKey, limit };
  },
  RemoveTagsFromStream(r) {
    const tagKeys = r.strings('TagKeys', { required: true, min: 1, max: 50, item: TAG_KEY });
    const name = streamName(r);
    r.done();
    return { streamName: name, tagKeys: tagKeys! };
  },
};

/** The checked input of `operation` from its decoded body. */
export function readRequest<O extends Operation>(operation: O, format: WireFormat, body: Record<string, unknown>): Requests[O] {
  return READERS[operation](new MemberReader(format, body));
}
