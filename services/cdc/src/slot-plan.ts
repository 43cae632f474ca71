/**
 * What to do with the replication slot at start-up, from what the server and the state table
 * say. Pure, so every path (including the ones that must stop the service) is unit-tested.
 */
import { CdcError, resnapshotAdvice } from './errors';

export interface SlotRow {
  plugin: string | null;
  database: string | null;
  /** reserved | extended | unreserved | lost (PostgreSQL 13+). */
  walStatus: string | null;
  confirmedFlushLsn: string | null;
}

/** Snapshot record of a slot in the state table: `running` until every snapshot row is in Kafka. */
export interface SnapshotRecord {
  status: 'running' | 'done' | 'skipped';
}

export type SlotPlan =
  /** Use the existing slot from its confirmed position. */
  | { action: 'stream'; adopt: boolean }
  /** Create the slot; with `snapshot`, export a snapshot and read the tables first. `dropFirst`: an earlier snapshot crashed. */
  | { action: 'create'; snapshot: boolean; dropFirst: boolean };

export function planSlot(input: {
  slot: string;
  database: string;
  stateTable: string;
  snapshotMode: 'initial' | 'never';
  slotRow: SlotRow | undefined;
  record: SnapshotRecord | undefined;
}): SlotPlan {
  const { slot, slotRow, record } = input;
  const advice = resnapshotAdvice(slot, input.stateTable);
  if (slotRow) {
    if (slotRow.plugin !== 'pgoutput')
      throw new CdcError('slot_unusable', `replication slot "${slot}" uses plugin ${slotRow.plugin ?? '(physical)'}, not pgoutput; choose another CDC_SLOT`);
    if (slotRow.database !== input.database)
      throw new CdcError('slot_unusable', `replication slot "${slot}" belongs to database ${slotRow.database}, not ${input.database}; choose another CDC_SLOT`);
    if (slotRow.walStatus === 'lost') {
      throw new CdcError(
        'slot_invalidated',
        `replication slot "${slot}" was invalidated by the server (WAL removed, see max_slot_wal_keep_size): changes after ${slotRow.confirmedFlushLsn ?? 'its last position'} are lost; ${advice}`,
      );
    }
    // The slot outlived a snapshot that never finished: its export is gone, so start over.
    if (record?.status === 'running' && input.snapshotMode === 'initial') return { action: 'create', snapshot: true, dropFirst: true };
    return { action: 'stream', adopt: record === undefined };
  }
  if (record && record.status !== 'running') {
    throw new CdcError(
      'slot_dropped',
      `replication slot "${slot}" no longer exists although capture had started (dropped by someone?): changes since then may be lost; ${advice}`,
    );
  }
  return { action: 'create', snapshot: input.snapshotMode === 'initial', dropFirst: false };
}
