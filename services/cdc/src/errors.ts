/** Why `tideway cdc` stops on purpose: a closed list, each with what the operator should do. */
import { TidewayError, type ErrorCode } from '@tideway/runtime';

export const CDC_ERROR_REASONS = {
  /** wal_level is not logical: exit 2. */
  wal_level: 'DEPENDENCY_MISCONFIGURED',
  /** A configured table does not exist: exit 2. */
  table_not_found: 'DEPENDENCY_MISCONFIGURED',
  /** The slot exists but belongs to another plugin or database: exit 2. */
  slot_unusable: 'DEPENDENCY_MISCONFIGURED',
  /** The server invalidated the slot (max_slot_wal_keep_size): changes were lost; re-snapshot. */
  slot_invalidated: 'STATE_LOST',
  /** The slot disappeared after capture had started: changes may be lost; re-snapshot. */
  slot_dropped: 'STATE_LOST',
} as const satisfies Record<string, ErrorCode>;

export type CdcErrorReason = keyof typeof CDC_ERROR_REASONS;

export class CdcError extends TidewayError {
  constructor(
    readonly reason: CdcErrorReason,
    message: string,
    cause?: unknown,
  ) {
    super(CDC_ERROR_REASONS[reason], message, { cause });
    this.name = 'CdcError';
  }
}

/** The documented way out of a lost slot: drop it, forget its snapshot record, restart. */
export function resnapshotAdvice(slot: string, stateTable: string): string {
  return `to start over with a fresh snapshot: SELECT pg_drop_replication_slot('${slot}'); DELETE FROM ${stateTable} WHERE slot_name = '${slot}'; then restart tideway cdc (consumers will see every row again as op r)`;
}
