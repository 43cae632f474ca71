/**
 * The Firehose operations the API serves (`X-Amz-Target: Firehose_20150804.<Operation>`) and their
 * inputs, checked against Firehose's documented constraints: names of 1–64 characters, a record of
 * at most 1,000 KiB, PutRecordBatch's 500 records and 4 MiB. A delivery stream is written to
 * directly (DirectPut); its destination is the bridge's route, so destination configurations are
 * accepted and not kept. Pure.
 */
import { invalidArgument } from '../errors';
import { MemberReader } from './members';
import { servedOperation } from './targets';
import { FIREHOSE_TARGET_PREFIX, type WireFormat } from './wire';

export const FIREHOSE_OPERATIONS = [
  'CreateDeliveryStream',
  'DeleteDeliveryStream',
  'DescribeDeliveryStream',
  'ListDeliveryStreams',
  'PutRecord',
  'PutRecordBatch',
] as const;

export type FirehoseOperation = (typeof FIREHOSE_OPERATIONS)[number];

const KIB = 1024;
/** Firehose's bound on one record's data (before base64). */
export const MAX_FIREHOSE_RECORD_BYTES = 1000 * KIB;
export const MAX_PUT_RECORD_BATCH = 500;
export const MAX_PUT_RECORD_BATCH_BYTES = 4 * KIB * KIB;
/** Firehose's default page of ListDeliveryStreams. */
export const DEFAULT_LIST_DELIVERY_STREAMS = 10;

const DELIVERY_STREAM_NAME = { min: 1, max: 64, pattern: /[a-zA-Z0-9_.-]+/ };
const DELIVERY_STREAM_TYPES = ['DirectPut', 'KinesisStreamAsSource', 'MSKAsSource', 'DatabaseAsSource'] as const;
type DeliveryStreamType = (typeof DELIVERY_STREAM_TYPES)[number];

/** The operation a Firehose `X-Amz-Target` names; UnknownOperationException naming the served ones otherwise. */
export function firehoseOperationOf(target: string | undefined): FirehoseOperation {
  return servedOperation(target, FIREHOSE_TARGET_PREFIX, FIREHOSE_OPERATIONS);
}

/** Why one record of a PutRecordBatch is refused on its own (too large), or undefined. */
export function recordRefusal(data: Buffer): string | undefined {
  return data.length > MAX_FIREHOSE_RECORD_BYTES ? `Record size (${data.length} bytes) exceeds the limit of ${MAX_FIREHOSE_RECORD_BYTES} bytes.` : undefined;
}

export interface FirehoseRequests {
  CreateDeliveryStream: { name: string; tags: Record<string, string> };
  DeleteDeliveryStream: { name: string };
  DescribeDeliveryStream: { name: string };
  ListDeliveryStreams: { limit: number; type?: DeliveryStreamType; exclusiveStartName?: string };
  PutRecord: { name: string; data: Buffer };
  PutRecordBatch: { name: string; records: Buffer[] };
}

const deliveryStreamName = (r: MemberReader) => r.string('DeliveryStreamName', { required: true, ...DELIVERY_STREAM_NAME }) ?? '';

type Readers = { [O in FirehoseOperation]: (r: MemberReader) => FirehoseRequests[O] };

const READERS: Readers = {
  CreateDeliveryStream(r) {
    const name = deliveryStreamName(r);
    const type = r.enum('DeliveryStreamType', DELIVERY_STREAM_TYPES) ?? 'DirectPut';
    const tags = r.structures('Tags', (t) => [t.string('Key', { required: true, min: 1, max: 128 }) ?? '', t.string('Value', { max: 256 }) ?? ''] as const, {
      min: 1,
      max: 50,
    });
    r.done();
    if (type !== 'DirectPut')
      throw invalidArgument(
        `DeliveryStreamType ${type} is not served: a delivery stream is a Kafka topic written with PutRecord and PutRecordBatch (DirectPut).`,
      );
    return { name, tags: Object.fromEntries(tags ?? []) };
  },
  DeleteDeliveryStream(r) {
    const name = deliveryStreamName(r);
    r.bool('AllowForceDelete');
    r.done();
    return { name };
  },
  DescribeDeliveryStream(r) {
    const name = deliveryStreamName(r);
    r.int('Limit', { min: 1, max: 10_000 });
    r.string('ExclusiveStartDestinationId', { min: 1, max: 100 });
    r.done();
    return { name };
  },
  ListDeliveryStreams(r) {
    const limit = r.int('Limit', { min: 1, max: 10_000 }) ?? DEFAULT_LIST_DELIVERY_STREAMS;
    const type = r.enum('DeliveryStreamType', DELIVERY_STREAM_TYPES);
    const exclusiveStartName = r.string('ExclusiveStartDeliveryStreamName', DELIVERY_STREAM_NAME);
    r.done();
    return { limit, type, exclusiveStartName };
  },
  PutRecord(r) {
    const name = deliveryStreamName(r);
    const data = r.structure('Record', (rec) => rec.blob('Data', { required: true, max: MAX_FIREHOSE_RECORD_BYTES }));
    if (data === undefined && !r.has('Record')) r.problem('Record', undefined, 'Member must not be null');
    r.done();
    return { name, data: data! };
  },
  PutRecordBatch(r) {
    const name = deliveryStreamName(r);
    // A record over the size limit fails on its own (its entry's ErrorCode); the others are written.
    const records = r.structures('Records', (rec) => rec.blob('Data', { required: true }), { required: true, min: 1, max: MAX_PUT_RECORD_BATCH });
    r.done();
    const total = records!.reduce((sum, data) => sum + data!.length, 0);
    if (total > MAX_PUT_RECORD_BATCH_BYTES)
      throw invalidArgument(`Records size (${total} bytes) exceeds the limit of ${MAX_PUT_RECORD_BATCH_BYTES} bytes per PutRecordBatch request.`);
    return { name, records: records as Buffer[] };
  },
};

/** The checked input of a Firehose `operation` from its decoded body. */
export function readFirehoseRequest<O extends FirehoseOperation>(operation: O, format: WireFormat, body: Record<string, unknown>): FirehoseRequests[O] {
  return READERS[operation](new MemberReader(format, body));
}
