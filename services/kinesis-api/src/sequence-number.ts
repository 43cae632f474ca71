/**
 * Sequence numbers: 56-digit decimal strings, like Kinesis's, that name one Kafka record exactly:
 *
 *   49 | partition, 10 digits | offset, 44 digits
 *
 * All have the same length, so within a shard they increase with the offset both as numbers
 * (how clients such as the KCL compare them) and as strings. Pure.
 */
import { invalidArgument } from './errors';
import { shardId } from './shard-map';

const PREFIX = '49';
const PARTITION_DIGITS = 10;
const OFFSET_DIGITS = 44;
export const SEQUENCE_NUMBER_LENGTH = PREFIX.length + PARTITION_DIGITS + OFFSET_DIGITS;
const MAX_PARTITION = 2 ** 31 - 1;
const MAX_OFFSET = (1n << 63n) - 1n;
/** Kinesis's constraint on a sequence number member. */
const MEMBER_PATTERN = /^(0|[1-9]\d{0,128})$/;

export interface RecordPosition {
  readonly partition: number;
  readonly offset: bigint;
}

export function formatSequenceNumber(position: RecordPosition): string {
  const { partition, offset } = position;
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) throw new RangeError(`not a partition: ${partition}`);
  if (offset < 0n || offset > MAX_OFFSET) throw new RangeError(`not an offset: ${offset}`);
  return PREFIX + String(partition).padStart(PARTITION_DIGITS, '0') + offset.toString().padStart(OFFSET_DIGITS, '0');
}

/** formatSequenceNumber for an offset as Kafka clients give it (decimal text), without a bigint per record. */
export function formatSequenceNumberAt(partition: number, offsetText: string): string {
  if (!/^\d{1,19}$/.test(offsetText)) throw new RangeError(`not an offset: ${offsetText}`);
  if (offsetText.length === 19 && BigInt(offsetText) > MAX_OFFSET) throw new RangeError(`not an offset: ${offsetText}`);
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) throw new RangeError(`not a partition: ${partition}`);
  return PREFIX + String(partition).padStart(PARTITION_DIGITS, '0') + offsetText.padStart(OFFSET_DIGITS, '0');
}

/** The record a sequence number names, or undefined when it is not one of ours. */
export function decodeSequenceNumber(text: string): RecordPosition | undefined {
  if (text.length !== SEQUENCE_NUMBER_LENGTH || !text.startsWith(PREFIX) || !/^\d+$/.test(text)) return undefined;
  const partition = Number(text.slice(PREFIX.length, PREFIX.length + PARTITION_DIGITS));
  const offset = BigInt(text.slice(PREFIX.length + PARTITION_DIGITS));
  if (partition > MAX_PARTITION || offset > MAX_OFFSET) return undefined;
  return { partition, offset };
}

/**
 * The offset a StartingSequenceNumber names in `partition`. InvalidArgumentException when it is
 * not a sequence number of this service, or one of another shard (as Kinesis words it).
 */
export function sequenceNumberOffset(text: string, partition: number, streamName: string): bigint {
  const position = MEMBER_PATTERN.test(text) ? decodeSequenceNumber(text) : undefined;
  if (!position)
    throw invalidArgument(`StartingSequenceNumber ${text} used in GetShardIterator on shard ${shardId(partition)} in stream ${streamName} is invalid.`);
  if (position.partition !== partition) {
    throw invalidArgument(
      `Invalid StartingSequenceNumber. It encodes ${shardId(position.partition)}, while it was used in a call to a shard with ${shardId(partition)}`,
    );
  }
  return position.offset;
}
