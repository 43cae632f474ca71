import { CdcError } from '../src/errors';
import { planSlot, type SlotRow } from '../src/slot-plan';

const base = { slot: 's1', database: 'app', stateTable: 'public.tideway_cdc_state', snapshotMode: 'initial' as const };
const healthy: SlotRow = { plugin: 'pgoutput', database: 'app', walStatus: 'reserved', confirmedFlushLsn: '0/100' };

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CdcError) return `${err.reason}:${err.code}:${err.message}`;
    throw err;
  }
  return 'no error';
}

describe('planSlot', () => {
  it('creates the slot with a snapshot on first start, without one in never mode', () => {
    expect(planSlot({ ...base, slotRow: undefined, record: undefined })).toEqual({ action: 'create', snapshot: true, dropFirst: false });
    expect(planSlot({ ...base, snapshotMode: 'never', slotRow: undefined, record: undefined })).toEqual({
      action: 'create',
      snapshot: false,
      dropFirst: false,
    });
  });

  it('streams from an existing slot whose snapshot finished', () => {
    expect(planSlot({ ...base, slotRow: healthy, record: { status: 'done' } })).toEqual({ action: 'stream', adopt: false });
    expect(planSlot({ ...base, slotRow: healthy, record: undefined })).toEqual({ action: 'stream', adopt: true });
  });

  it('re-snapshots (dropping its own slot) when a snapshot crashed half-way', () => {
    expect(planSlot({ ...base, slotRow: healthy, record: { status: 'running' } })).toEqual({ action: 'create', snapshot: true, dropFirst: true });
    expect(planSlot({ ...base, slotRow: undefined, record: { status: 'running' } })).toEqual({ action: 'create', snapshot: true, dropFirst: false });
  });

  it('stops with STATE_LOST and the way out when the server invalidated the slot', () => {
    const r = reasonOf(() => planSlot({ ...base, slotRow: { ...healthy, walStatus: 'lost' }, record: { status: 'done' } }));
    expect(r).toMatch(/^slot_invalidated:STATE_LOST:/);
    expect(r).toMatch(/pg_drop_replication_slot\('s1'\)/);
    expect(r).toMatch(/DELETE FROM public.tideway_cdc_state WHERE slot_name = 's1'/);
  });

  it('stops with STATE_LOST instead of silently recreating a slot someone dropped', () => {
    expect(reasonOf(() => planSlot({ ...base, slotRow: undefined, record: { status: 'done' } }))).toMatch(/^slot_dropped:STATE_LOST:.*no longer exists/);
    expect(reasonOf(() => planSlot({ ...base, slotRow: undefined, record: { status: 'skipped' } }))).toMatch(/^slot_dropped/);
  });

  it('refuses a slot of another plugin or database', () => {
    expect(reasonOf(() => planSlot({ ...base, slotRow: { ...healthy, plugin: 'wal2json' }, record: undefined }))).toMatch(
      /^slot_unusable:DEPENDENCY_MISCONFIGURED:.*wal2json/,
    );
    expect(reasonOf(() => planSlot({ ...base, slotRow: { ...healthy, database: 'other' }, record: undefined }))).toMatch(/^slot_unusable/);
  });
});
