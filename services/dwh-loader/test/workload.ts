/**
 * A reproducible mixed workload of change events (inserts, updates, deletes, re-inserts) over a
 * set of keys, and the state a correct loader must end up with.
 */
import type { ColumnInfo, OutgoingMessage } from '@tideway/runtime';
import { seededRandom } from '../../../test-support/seeded-random';
import { changeMessage } from './harness';

export const WORKLOAD_COLUMNS: ColumnInfo[] = [
  { name: 'id', type: 'integer', key: true },
  { name: 'holder', type: 'text', key: false },
  { name: 'premium', type: 'numeric(12,2)', key: false },
  { name: 'version', type: 'integer', key: false },
];

export interface WorkloadRow {
  id: number;
  holder: string;
  premium: string;
  version: number;
}

export interface Workload {
  messages: OutgoingMessage[];
  /** Final state per key (absent = deleted or never created). */
  expected: Map<number, WorkloadRow>;
}

export function mixedWorkload(topic: string, keys: number, events: number, seed = 1, table = 'policies', firstLsn = 1000): Workload {
  const rnd = seededRandom(seed);
  const state = new Map<number, WorkloadRow>();
  const messages: OutgoingMessage[] = [];
  let lsn = firstLsn;
  for (let i = 0; i < events; i++) {
    const id = 1 + Math.floor(rnd() * keys);
    lsn += 1 + Math.floor(rnd() * 3);
    const cur = state.get(id);
    const key = { id };
    if (!cur) {
      const row = { id, holder: `h${id}-${i}`, premium: (rnd() * 1000).toFixed(2), version: 1 };
      state.set(id, row);
      messages.push(changeMessage(topic, key, { table, op: 'c', after: { ...row }, lsn }, WORKLOAD_COLUMNS));
    } else if (rnd() < 0.15) {
      state.delete(id);
      messages.push(changeMessage(topic, key, { table, op: 'd', before: { ...cur }, lsn }, WORKLOAD_COLUMNS));
    } else {
      const row = { ...cur, premium: (rnd() * 1000).toFixed(2), version: cur.version + 1 };
      state.set(id, row);
      messages.push(changeMessage(topic, key, { table, op: 'u', before: { ...cur }, after: { ...row }, lsn }, WORKLOAD_COLUMNS));
    }
  }
  return { messages, expected: state };
}

export function sortedRows(expected: Map<number, WorkloadRow>): WorkloadRow[] {
  return [...expected.values()].sort((a, b) => a.id - b.id);
}
