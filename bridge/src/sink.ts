/**
 * What every destination (kinesis, firehose, s3, opensearch) offers the route pipeline, and what the
 * pipeline offers back: a record is finished exactly once — delivered, dead-lettered, or
 * dropped on purpose — and only then may its offset be committed.
 */
import type { IncomingMessage } from '@tideway/runtime';
import type { DlqReason } from './errors';
import type { OffsetToken } from './offset-tracker';

export interface BridgeRecord {
  message: IncomingMessage;
  token: OffsetToken;
  /** Payload to deliver (the Kafka value, or the transform's output). */
  data: Buffer;
  /** When it was read from Kafka (epoch millis), for delivery latency. */
  readAt: number;
  /** Set when the transform returned ProcessingFailed. */
  transformError?: string;
}

export interface RecordOutcomes {
  /** Accepted by the destination (counts delivered records and bytes once). */
  delivered(records: readonly BridgeRecord[]): void;
  /** Finished without being delivered as data (written to the s3 error output). */
  finished(records: readonly BridgeRecord[]): void;
  /** Goes to the dead-letter topic; finished once the DLQ write is acknowledged. */
  deadLetter(record: BridgeRecord, reason: DlqReason, error: string): void;
  /** Readiness of the destination (false: missing, access denied, failing). */
  destinationHealthy(healthy: boolean, problem?: string): void;
  /** The sink's buffered bytes went down (an answer came back, an upload finished): backpressure looks again. */
  bufferShrunk(): void;
}

export interface Sink {
  readonly kind: 'kinesis' | 'firehose' | 's3' | 'opensearch';
  /** Checks (or creates) the destination. Throws DestinationMissingError while it is missing. */
  prepare(signal: AbortSignal): Promise<void>;
  /** Takes records over; never throws for a bad record (those are dead-lettered). */
  submit(records: readonly BridgeRecord[]): void;
  /** Records whose transform failed: error output (s3) or the DLQ. */
  submitFailed(records: readonly BridgeRecord[]): void;
  /** Bytes held and not yet accepted (drives backpressure; a drop is announced by `bufferShrunk`). */
  bufferedBytes(): number;
  /** Above this, the route pauses fetching. */
  readonly maxBufferedBytes: number;
  /** Delivers everything held now (s3: flushes buffers). Resolves when empty or on abort. */
  drain(signal: AbortSignal): Promise<void>;
  close(): void;
}
