/**
 * How a Firehose delivery stream maps onto its topic: records have no key and are spread over the
 * partitions in turn, and a record's id names its partition and offset (the sequence number's
 * form), so it is unique within the delivery stream and the same on every instance. Pure.
 */
import { ACCOUNT_ID } from './operations/context';
import { formatSequenceNumber, type RecordPosition } from './sequence-number';

/** Partitions of `records` records over `partitions`, one after the other from `start`. */
export function spreadPartitions(partitions: number, records: number, start: number): number[] {
  return Array.from({ length: records }, (_, i) => (start + i) % partitions);
}

export function recordId(position: RecordPosition): string {
  return formatSequenceNumber(position);
}

export function deliveryStreamArn(region: string, name: string): string {
  return `arn:aws:firehose:${region}:${ACCOUNT_ID}:deliverystream/${name}`;
}
