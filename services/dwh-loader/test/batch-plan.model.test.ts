/**
 * Model-based test of the loader's position logic (batch-plan.ts, as batch-loader.ts drives it):
 * seeded random interleavings of fetches from logs with gaps (compaction, transaction markers),
 * runs applied in warehouse transactions with the offset and fenced on it, commits whose answer
 * is lost (the retry finds the offset moved), crashes, rebalances (positions read from the
 * warehouse asynchronously, possibly stale, possibly after the first batch), another loader
 * overlapping a rebalance, redeliveries from older offsets and a Kafka offset hint ahead of the
 * warehouse. Checked after every step against the warehouse itself: every record before the
 * stored offset was applied exactly once, and none at or after it.
 * A failing case prints its seed; `BATCH_PLAN_SEED=n` replays it alone.
 */
import { seededRandom, modelSeeds, seededFailures, offsetLog } from '../../../test-support/seeded-random';
import { offsetAfter, planBatch, type PartitionPosition } from '../src/batch-plan';

interface Rec {
  offset: string;
}

interface PartitionModel {
  id: number;
  log: bigint[];
  /** Warehouse: the stored offset and how often each offset was applied. */
  stored: bigint;
  applied: Set<bigint>;
  /** An offset applied a second time, and the highest offset applied. */
  twice?: bigint;
  highest: bigint;
  /** Kafka's committed offset for the group (only a hint). */
  hint: bigint;
  /** The consumer's fetch position and a seek not yet taken up by a fetch. */
  fetch: bigint;
  seek?: bigint;
}

class Crash extends Error {}

function runCase(seed: number, steps: number): string | undefined {
  const r = seededRandom(seed);
  const parts: PartitionModel[] = [0, 1].map((id) => ({ id, log: offsetLog(r, 120, 0.15), stored: 0n, applied: new Set(), highest: -1n, hint: 0n, fetch: 0n }));
  const maxRows = 1 + r.int(6);
  // The loader process (BatchLoader.positions) and its reads of stored offsets still in flight (onAssignment).
  let positions = new Map<number, PartitionPosition>();
  let assignmentReads: Array<{ part: PartitionModel; stored?: bigint }> = [];

  const commitRun = (p: PartitionModel, expectedNext: bigint, run: Rec[]): { kind: 'committed' } | { kind: 'fenced'; stored: bigint } => {
    // Warehouse.apply: the offsets row is locked and compared first.
    if (p.stored !== expectedNext) return { kind: 'fenced', stored: p.stored };
    for (const m of run) {
      const o = BigInt(m.offset);
      if (p.applied.has(o)) p.twice ??= o;
      p.applied.add(o);
      if (o > p.highest) p.highest = o;
    }
    p.stored = offsetAfter(run);
    return { kind: 'committed' };
  };

  /** Another loader that owned the partition during an overlapping rebalance applies a few records. */
  const otherLoader = (p: PartitionModel) => {
    const from = p.stored;
    const run = p.log
      .filter((o) => o >= from)
      .slice(0, 1 + r.int(4))
      .map((o) => ({ offset: o.toString() }));
    if (run.length > 0) commitRun(p, from, run);
    p.hint = p.stored;
  };

  /** The second half of onAssignment: the stored offset arrives; position set unless a batch did it; seek. */
  const finishAssignmentRead = (i: number) => {
    const [read] = assignmentReads.splice(i, 1);
    const stored = read.stored ?? read.part.stored;
    if (!positions.has(read.part.id)) positions.set(read.part.id, { expectedNext: stored, aligned: true });
    read.part.seek = stored;
  };

  /** What can happen at an await point inside a batch: another loader's commit, an assignment read landing. */
  const concurrently = (p: PartitionModel) => {
    if (r.chance(0.05)) otherLoader(p);
    if (assignmentReads.length > 0 && r.chance(0.1)) finishAssignmentRead(r.int(assignmentReads.length));
  };

  /** BatchLoader.handle for one fetched batch; kafkajs then resolves the batch unless a seek is pending. */
  const handle = (p: PartitionModel, messages: Rec[]) => {
    const stale = () => p.seek !== undefined;
    let pos = positions.get(p.id);
    if (!pos) {
      concurrently(p);
      pos = { expectedNext: p.stored, aligned: false };
      positions.set(p.id, pos);
    }
    for (;;) {
      const plan = planBatch(pos, messages);
      pos.aligned = true;
      if (plan.kind === 'seek') return void (p.seek = plan.offset);
      if (plan.kind === 'none') {
        if (plan.seek !== undefined) p.seek = plan.seek;
        return;
      }
      let fenced = false;
      for (let i = 0; i < plan.records.length && !fenced; i += maxRows) {
        const run = plan.records.slice(i, i + maxRows);
        concurrently(p);
        if (r.chance(0.02)) throw new Crash(); // before the transaction commits
        let outcome = commitRun(p, pos.expectedNext, run);
        if (outcome.kind === 'committed' && r.chance(0.05)) {
          // the commit's answer is lost; the retry finds the offset moved (or the process dies)
          if (r.chance(0.3)) throw new Crash();
          outcome = commitRun(p, pos.expectedNext, run);
        }
        if (outcome.kind === 'fenced') {
          pos.expectedNext = outcome.stored;
          fenced = true;
        } else {
          pos.expectedNext = offsetAfter(run);
          if (r.chance(0.03)) throw new Crash(); // after the commit, before the offset hint
          p.hint = pos.expectedNext;
        }
      }
      if (!fenced || stale()) return;
    }
  };

  const assign = (p: PartitionModel, stale: boolean) => {
    // A join fetches from Kafka's committed offset; onAssignment reads the warehouse's, maybe later.
    p.fetch = p.hint;
    p.seek = undefined;
    assignmentReads.push({ part: p, stored: stale ? p.stored : undefined });
  };

  parts.forEach((p) => assign(p, false));
  for (let step = 0; step < steps; step++) {
    const op = r();
    try {
      if (op < 0.55) {
        // a fetch: a pending seek moves the position first; then the next records from there
        const p = r.pick(parts);
        if (p.seek !== undefined) {
          p.fetch = p.seek;
          p.seek = undefined;
        }
        const messages = p.log
          .filter((o) => o >= p.fetch)
          .slice(0, 1 + r.int(10))
          .map((o) => ({ offset: o.toString() }));
        if (messages.length > 0) {
          handle(p, messages);
          if (p.seek === undefined) p.fetch = BigInt(messages[messages.length - 1].offset) + 1n;
        }
      } else if (op < 0.65 && assignmentReads.length > 0) {
        finishAssignmentRead(r.int(assignmentReads.length));
      } else if (op < 0.72) {
        // a rebalance: positions are forgotten and read again (the read may see an older stored offset)
        positions = new Map();
        for (const p of parts) assign(p, r.chance(0.3));
      } else if (op < 0.76) {
        otherLoader(r.pick(parts));
      } else if (op < 0.8) {
        // redelivery from an older offset (the client restarted its fetch)
        const p = r.pick(parts);
        const older = p.log.filter((o) => o < p.fetch);
        if (older.length > 0) p.fetch = r.pick(older);
      } else if (op < 0.83) {
        // Kafka's offset hint ahead of the warehouse (warehouse restored from a backup, a tool reset it)
        const p = r.pick(parts);
        p.hint = p.stored + BigInt(1 + r.int(20));
      } else if (op < 0.86) {
        throw new Crash();
      }
    } catch (err) {
      if (!(err instanceof Crash)) throw err;
      // A new process joins the group: nothing of the old one survives but the warehouse and Kafka.
      positions = new Map();
      assignmentReads = [];
      for (const p of parts) assign(p, false);
    }

    // No offset applied twice, none at or after the stored offset, and as many as the log holds
    // before it: the applied set is exactly the log before the stored offset.
    for (const p of parts) {
      if (p.twice !== undefined) return `seed ${seed} step ${step}: partition ${p.id} offset ${p.twice} applied twice`;
      const before = p.log.findIndex((o) => o >= p.stored);
      const expected = before < 0 ? p.log.length : before;
      const highest = p.highest;
      if (highest >= p.stored) return `seed ${seed} step ${step}: partition ${p.id} stored ${p.stored} but offset ${highest} beyond it was applied`;
      if (p.applied.size !== expected)
        return `seed ${seed} step ${step}: partition ${p.id} stored ${p.stored} but only ${p.applied.size} of the ${expected} records before it were applied`;
    }
  }
  return undefined;
}

describe('planBatch against a model of the warehouse and the consumer', () => {
  const seeds = modelSeeds('BATCH_PLAN_SEED');

  it(`stores exactly the offsets of the changes applied, each once (${seeds.length} seeded cases)`, () => {
    expect(seededFailures(seeds, (seed) => runCase(seed, 300))).toEqual([]);
  });
});
