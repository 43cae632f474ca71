/**
 * The Firehose operations: a delivery stream is a topic (the same prefix mapping as a stream), a
 * record a Kafka record without a key whose value is the data, spread over the partitions. A record
 * is acknowledged only once Kafka has it (acks=all); delivering the topic on (to S3) is the bridge's job.
 */
import { randomInt } from 'node:crypto';
import { deliveryStreamArn, recordId, spreadPartitions } from '../delivery-streams';
import { KinesisApiError } from '../errors';
import { recordRefusal, type FirehoseOperation, type FirehoseRequests } from '../protocol/firehose-operations';
import { UNKNOWN_METADATA } from '../stream-metadata';
import { ACCOUNT_ID, HOUR_MS, type OperationContext } from './context';

type Entry = { RecordId: string } | { ErrorCode: string; ErrorMessage: string };
type Answer = Promise<Record<string, unknown>>;

/** The delivery stream's partition count; ResourceNotFoundException when it does not exist. */
async function requireDeliveryStream(ctx: OperationContext, name: string): Promise<number> {
  const partitions = await ctx.store.shardCount(name);
  if (partitions === 0) throw new KinesisApiError('ResourceNotFoundException', `Firehose ${name} under account ${ACCOUNT_ID} not found.`);
  return partitions;
}

/** Writes the records that are not refused on their own, and reports each, in request order. */
async function putAll(ctx: OperationContext, name: string, records: readonly Buffer[]): Promise<Entry[]> {
  const partitions = await requireDeliveryStream(ctx, name);
  const arrival = ctx.nowMs();
  const entries: Entry[] = [];
  const accepted: number[] = [];
  records.forEach((data, i) => {
    const refusal = recordRefusal(data);
    entries.push(refusal === undefined ? { RecordId: '' } : { ErrorCode: 'InvalidArgumentException', ErrorMessage: refusal });
    if (refusal === undefined) accepted.push(i);
  });
  // A random start spreads single-record puts too, with no state shared between requests or instances.
  const spread = spreadPartitions(partitions, accepted.length, randomInt(partitions));
  const sent =
    accepted.length === 0
      ? []
      : await ctx.store.send(
          name,
          accepted.map((i, n) => ({ partition: spread[n], key: null, value: records[i], timestampMs: arrival })),
        );
  accepted.forEach((i, n) => {
    const r = sent[n];
    if ('offset' in r) {
      entries[i] = { RecordId: recordId({ partition: spread[n], offset: r.offset }) };
      ctx.metrics.recordsPut.inc();
      ctx.metrics.bytesPut.inc(records[i].length);
    } else {
      entries[i] = { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'The record could not be written; try again.' };
    }
  });
  return entries;
}

async function putRecord(ctx: OperationContext, req: FirehoseRequests['PutRecord']): Answer {
  const [entry] = await putAll(ctx, req.name, [req.data]);
  if ('ErrorCode' in entry) throw new KinesisApiError(entry.ErrorCode as 'ServiceUnavailableException', entry.ErrorMessage);
  return { RecordId: entry.RecordId, Encrypted: false };
}

async function putRecordBatch(ctx: OperationContext, req: FirehoseRequests['PutRecordBatch']): Answer {
  const entries = await putAll(ctx, req.name, req.records);
  return { FailedPutCount: entries.filter((e) => 'ErrorCode' in e).length, Encrypted: false, RequestResponses: entries };
}

async function createDeliveryStream(ctx: OperationContext, req: FirehoseRequests['CreateDeliveryStream']): Answer {
  const metadata = { mode: 'ON_DEMAND' as const, createdAtMs: ctx.nowMs(), tags: req.tags };
  const created = await ctx.store.createStream(req.name, ctx.firehosePartitions, ctx.defaultRetentionHours * HOUR_MS, metadata);
  if (!created) throw new KinesisApiError('ResourceInUseException', `Firehose ${req.name} under account ${ACCOUNT_ID} already exists.`);
  return { DeliveryStreamARN: deliveryStreamArn(ctx.region, req.name) };
}

async function deleteDeliveryStream(ctx: OperationContext, req: FirehoseRequests['DeleteDeliveryStream']): Answer {
  await requireDeliveryStream(ctx, req.name);
  await ctx.store.deleteStream(req.name);
  return {};
}

async function describeDeliveryStream(ctx: OperationContext, req: FirehoseRequests['DescribeDeliveryStream']): Answer {
  await requireDeliveryStream(ctx, req.name);
  const metadata = (await ctx.store.metadata([req.name])).get(req.name) ?? UNKNOWN_METADATA;
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: req.name,
      DeliveryStreamARN: deliveryStreamArn(ctx.region, req.name),
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      CreateTimestamp: new Date(metadata.createdAtMs),
      DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
      // Delivery is configured as the bridge's routes, not here.
      Destinations: [],
      HasMoreDestinations: false,
    },
  };
}

async function listDeliveryStreams(ctx: OperationContext, req: FirehoseRequests['ListDeliveryStreams']): Answer {
  if (req.type !== undefined && req.type !== 'DirectPut') return { DeliveryStreamNames: [], HasMoreDeliveryStreams: false };
  const all = await ctx.store.listStreams();
  const from = req.exclusiveStartName === undefined ? all : all.filter((s) => s > req.exclusiveStartName!);
  const page = from.slice(0, req.limit);
  return { DeliveryStreamNames: page, HasMoreDeliveryStreams: from.length > page.length };
}

export type FirehoseHandlers = { [O in FirehoseOperation]: (ctx: OperationContext, req: FirehoseRequests[O]) => Answer };

export const FIREHOSE_HANDLERS: FirehoseHandlers = {
  CreateDeliveryStream: createDeliveryStream,
  DeleteDeliveryStream: deleteDeliveryStream,
  DescribeDeliveryStream: describeDeliveryStream,
  ListDeliveryStreams: listDeliveryStreams,
  PutRecord: putRecord,
  PutRecordBatch: putRecordBatch,
};
