/**
 * Model-based test of what a partition worker evaluates and commits (batch-admission.ts, as
 * transactional-pipeline.ts drives it): seeded random interleavings of fetches, evaluations
 * finishing in order or failing, transactions committed, aborted, or committed although the
 * client saw an error, rebalances that keep the partition (the consumer fetches again from the
 * committed offset), revocations and crashes (a new worker fences, reads the committed offset,
 * and may first see batches from the offset read at join, older than that, or from where the
 * client was fetching before: its prefetched records, newer than that), and seeks that are lost
 * (issued while the partition was not assigned). Checked after every
 * step against Kafka: the outputs in committed transactions hold every record before the
 * committed offset exactly once, and none after it.
 * A failing case prints its seed; `BATCH_ADMISSION_SEED=n` replays it alone.
 */
import { seededRandom, modelSeeds, seededFailures, offsetLog } from '../../../../test-support/seeded-random';
import { admitBatch, type WorkerProgress } from '../../src/pipeline/batch-admission';

interface Pending {
  /** First offset not yet committed (where reading resumes if the transaction fails), offset after the last batch. */
  base?: bigint;
  next?: bigint;
  /** Offsets whose outputs are in this transaction. */
  outputs: bigint[];
}

interface Worker extends WorkerProgress {
  pending: Pending;
  /** Evaluations sent and not yet merged, in order: their offsets and whether they will fail. */
  inFlight: Array<{ offsets: bigint[]; fails: boolean }>;
  closed: boolean;
}

function runCase(seed: number, steps: number): string | undefined {
  const r = seededRandom(seed);
  const log = offsetLog(r, 150, 0.15);
  /** Kafka: the group's committed offset and how often each record's outputs were committed. */
  let committed: bigint | undefined;
  const outputs = new Map<bigint, number>();
  let twice: bigint | undefined;
  /** The consumer: fetch position, a seek not taken up yet, and the committed offset it read at join. */
  let fetch = 0n;
  let seek: bigint | undefined;
  let worker: Worker | undefined;

  /** connectWorker: fences the previous owner, then reads the committed offset. */
  const newWorker = (): Worker => ({ committed, checkedFirstBatch: false, position: committed, pending: { outputs: [] }, inFlight: [], closed: false });
  /** The group (re)joins: fetching starts at the committed offset read now, which may be older than the latest (a zombie's commit lands after). */
  const history: bigint[] = [0n];
  const join = () => {
    fetch = r.chance(0.2) ? r.pick(history) : (committed ?? 0n);
    seek = undefined;
  };
  const discard = (w: Worker) => {
    w.closed = true;
    if (worker === w) worker = undefined;
  };

  const flush = (w: Worker) => {
    const p = w.pending;
    if (w.closed || (p.next === undefined && p.outputs.length === 0)) return;
    w.pending = { outputs: [] };
    const outcome = r();
    if (outcome < 0.85 || outcome >= 0.95) {
      // committed (from 0.95 on the client sees an error although the broker committed it)
      for (const o of p.outputs) {
        if (outputs.has(o)) twice ??= o;
        outputs.set(o, (outputs.get(o) ?? 0) + 1);
      }
      if (p.next !== undefined) history.push((committed = p.next));
      if (outcome < 0.95) return;
    }
    // aborted: the worker is discarded and reading resumes at the first uncommitted offset (unless
    // the seek is lost: the partition was being revoked)
    if (p.base !== undefined && !r.chance(0.2)) seek = p.base;
    discard(w);
  };

  join();
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.4) {
      // a fetched batch (handleBatch → dispatchInput); a pending seek moves the position first
      if (seek !== undefined) {
        fetch = seek;
        seek = undefined;
      }
      const offsets = log.filter((o) => o >= fetch).slice(0, 1 + r.int(8));
      if (offsets.length === 0) continue;
      fetch = offsets[offsets.length - 1] + 1n;
      worker ??= newWorker();
      const w = worker;
      const admission = admitBatch(w, offsets.map(String));
      w.checkedFirstBatch = true;
      if (admission.kind === 'seek') seek = admission.offset;
      else if (admission.kind === 'evaluate') {
        const fresh = offsets.slice(admission.from);
        w.position = fresh[fresh.length - 1] + 1n;
        w.inFlight.push({ offsets: fresh, fails: r.chance(0.03) });
      }
    } else if (op < 0.7) {
      // the oldest evaluation in flight joins the pending transaction (or fails)
      const w = worker;
      const e = w?.inFlight.shift();
      if (!w || !e || w.closed) continue;
      if (e.fails) {
        if (!r.chance(0.2)) seek = w.pending.base ?? e.offsets[0];
        discard(w);
        continue;
      }
      w.pending.base ??= e.offsets[0];
      w.pending.outputs.push(...e.offsets);
      w.pending.next = e.offsets[e.offsets.length - 1] + 1n;
    } else if (op < 0.85) {
      // the commit timer
      if (worker) flush(worker);
    } else if (op < 0.93) {
      // a rebalance that keeps the partition here: the worker and its pending transaction stay
      join();
    } else if (op < 0.97) {
      // revoked and assigned again (or a crash): nothing pending survives; evaluations in flight are
      // dropped; the client may go on from where it was fetching (records it had prefetched)
      if (worker) discard(worker);
      if (!r.chance(0.3)) join();
    } else if (worker && r.chance(0.5)) {
      // graceful stop: what was evaluated is committed, then a new process starts over
      const w = worker;
      while (w.inFlight.length > 0 && !w.closed) {
        const e = w.inFlight.shift()!;
        if (e.fails) {
          seek = w.pending.base ?? e.offsets[0];
          discard(w);
          break;
        }
        w.pending.base ??= e.offsets[0];
        w.pending.outputs.push(...e.offsets);
        w.pending.next = e.offsets[e.offsets.length - 1] + 1n;
      }
      flush(w);
      discard(w);
      join();
    }

    if (twice !== undefined) return `seed ${seed} step ${step}: the outputs of offset ${twice} were committed twice`;
    const c = committed ?? 0n;
    let before = 0;
    for (const o of log) {
      if (o >= c) break;
      before++;
      if (!outputs.has(o)) return `seed ${seed} step ${step}: committed offset ${c} but the outputs of offset ${o} were never committed`;
    }
    if (outputs.size !== before) return `seed ${seed} step ${step}: outputs of records at or after the committed offset ${c} were committed`;
  }
  return undefined;
}

describe('admitBatch against a model of the transactional pipeline', () => {
  const seeds = modelSeeds('BATCH_ADMISSION_SEED');

  it(`commits each record's outputs exactly once, with the offset after them (${seeds.length} seeded cases)`, () => {
    expect(seededFailures(seeds, (seed) => runCase(seed, 300))).toEqual([]);
  });
});
