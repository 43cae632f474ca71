/**
 * Why the loader rejects a record (a closed list: also the `reason` label of the DLQ metric
 * and the `tideway.dlq.reason` header), and the errors it raises on purpose.
 */
import { TidewayError, type ChangeEventProblem } from '@tideway/runtime';

export type RejectReason =
  | ChangeEventProblem
  /** A table or column name from the data is not a safe SQL identifier. */
  | 'invalid_identifier'
  /** A source column uses a name the loader reserves for its own columns. */
  | 'reserved_column'
  /** Upsert mode needs the primary key (from `tideway.columns` or the record key) and it is missing. */
  | 'missing_key'
  /** The warehouse refused a value (wrong type, out of range, not null...). */
  | 'value_rejected';

export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed_json',
  'not_an_envelope',
  'missing_field',
  'invalid_identifier',
  'reserved_column',
  'missing_key',
  'value_rejected',
];

/** A record that cannot be applied: it goes to the dead-letter topic and the stream goes on. */
export class RejectedRecord extends TidewayError {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super('RECORD_INVALID', message);
    this.name = 'RejectedRecord';
  }
}

/** The warehouse cannot be reached or refused a statement for a reason that may pass. */
export class WarehouseUnavailable extends TidewayError {
  constructor(message: string, cause?: unknown) {
    super('CONNECTION_FAILED', message, { cause });
    this.name = 'WarehouseUnavailable';
  }
}
