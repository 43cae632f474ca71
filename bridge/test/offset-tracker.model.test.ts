/**
 * Model-based test of the offset tracker: seeded random interleavings of fetches, deliveries,
 * retries, commits, rebalances (replay from the committed offset) and revocations over several
 * partitions, checked after every step against two references:
 *  - safety, from the outside: every offset below a committed offset was delivered downstream;
 *  - exactness: the commit point equals the lowest offset of the current epoch not acknowledged
 *    yet (or one past the last handed out), computed naively from the full history.
 * A failing case prints its seed; `OFFSET_TRACKER_SEED=n` replays it alone.
 */
import { seededRandom, modelSeeds, seededFailures, offsetLog } from '../../test-support/seeded-random';
import { OffsetTracker, type OffsetToken } from '../src/offset-tracker';

interface PartitionModel {
  topic: string;
  partition: number;
  /** The partition's offsets as Kafka holds them (gaps are compaction or transaction markers). */
  log: bigint[];
  /** Index in `log` of the next record the consumer fetches; undefined while not owned. */
  cursor?: number;
  /** What the broker holds as the group's committed offset. */
  committed: bigint;
  /** Offsets handed out in the current epoch, in order, and which of them were acknowledged. */
  epochOffsets: bigint[];
  epochAcked: Set<bigint>;
  epochToken?: number;
  /** One past the highest offset handed out to this process while it owned the partition without a break. */
  next?: bigint;
}

interface InFlight {
  token: OffsetToken;
  model: PartitionModel;
  /** The epoch (in model terms) this record was handed out in. */
  epoch: number;
}

function indexAtOrAfter(log: bigint[], offset: bigint): number {
  const i = log.findIndex((o) => o >= offset);
  return i < 0 ? log.length : i;
}

/** Runs one seeded case; returns a description of the first violation, or undefined. */
function runCase(seed: number, steps: number): string | undefined {
  const r = seededRandom(seed);
  let tracker = new OffsetTracker();
  const partitions: PartitionModel[] = [
    { topic: 'a', partition: 0 },
    { topic: 'a', partition: 1 },
    { topic: 'a', partition: 2 },
    { topic: 'b', partition: 0 },
  ].map((tp) => ({ ...tp, log: offsetLog(r, 200, 0.1), committed: 0n, epochOffsets: [], epochAcked: new Set() }));
  const delivered = new Map<PartitionModel, Set<bigint>>(partitions.map((p) => [p, new Set()]));
  let inFlight: InFlight[] = [];
  let modelEpochs = 0;

  // Kafka starts an assigned partition at the committed offset. A record handed out again (an
  // offset below one already handed out) opens a new epoch: acknowledgements of records handed
  // out before it no longer count, as those records are read again.
  const assign = (p: PartitionModel) => {
    p.cursor = indexAtOrAfter(p.log, p.committed);
  };
  const forget = (p: PartitionModel) => {
    p.cursor = undefined;
    p.next = undefined;
    p.epochToken = undefined;
    p.epochOffsets = [];
  };
  partitions.forEach(assign);

  const referencePoint = (p: PartitionModel): bigint | undefined => {
    if (p.epochOffsets.length === 0) return undefined;
    const pending = p.epochOffsets.filter((o) => !p.epochAcked.has(o));
    return pending.length > 0 ? pending[0] : p.epochOffsets[p.epochOffsets.length - 1] + 1n;
  };

  for (let step = 0; step < steps; step++) {
    const op = r();
    const owned = partitions.filter((p) => p.cursor !== undefined);
    if (op < 0.35 && owned.length > 0) {
      // fetch: a batch of the next records of one partition
      const p = r.pick(owned);
      const n = 1 + r.int(6);
      for (let i = 0; i < n && p.cursor! < p.log.length; i++) {
        const offset = p.log[p.cursor!++];
        if (p.next === undefined || offset < p.next) {
          p.epochOffsets = [];
          p.epochAcked = new Set();
          p.epochToken = ++modelEpochs;
        }
        p.next = offset + 1n;
        const token = tracker.track(p.topic, p.partition, offset.toString());
        p.epochOffsets.push(offset);
        inFlight.push({ token, model: p, epoch: p.epochToken! });
      }
    } else if (op < 0.65 && inFlight.length > 0) {
      // the destination accepted one record (in any order; possibly one of an earlier epoch)
      const i = r.int(inFlight.length);
      const f = inFlight[i];
      inFlight.splice(i, 1);
      tracker.ack(f.token);
      delivered.get(f.model)!.add(f.token.offset);
      if (f.epoch === f.model.epochToken) f.model.epochAcked.add(f.token.offset);
    } else if (op < 0.72 && inFlight.length > 0) {
      // a failed delivery is retried later: the record moves to the back of the queue
      const i = r.int(inFlight.length);
      inFlight.push(...inFlight.splice(i, 1));
    } else if (op < 0.88) {
      // commit timer; sometimes the commit request fails (a rebalance rejects it)
      const offsets = tracker.committable();
      if (r.chance(0.9)) {
        for (const o of offsets) {
          const p = partitions.find((x) => x.topic === o.topic && x.partition === o.partition)!;
          if (p.cursor === undefined) return `seed ${seed} step ${step}: commit for ${o.topic}-${o.partition}, which is not owned`;
          p.committed = BigInt(o.offset);
        }
        tracker.markCommitted(offsets);
      }
    } else if (op < 0.94 && owned.length > 0) {
      // a rebalance that keeps the partition: consumption restarts at the committed offset
      const p = r.pick(owned);
      assign(p);
    } else if (op < 0.97 && owned.length > 0) {
      // the partition is revoked; its records in flight may still be delivered later
      forget(r.pick(owned));
      tracker.retain(partitions.filter((x) => x.cursor !== undefined));
    } else if (op < 0.98) {
      // the process dies (SIGKILL): in-flight records are lost with it; a new process starts from the committed offsets
      tracker = new OffsetTracker();
      inFlight = [];
      for (const p of partitions) {
        forget(p);
        assign(p);
      }
    } else {
      const revoked = partitions.filter((p) => p.cursor === undefined);
      if (revoked.length > 0) assign(r.pick(revoked));
    }
    // Some records are never acknowledged (a destination that keeps failing them): commits must stall behind them.
    if (r.chance(0.01)) inFlight = inFlight.filter(() => r.chance(0.5));

    const observe = r.chance(0.1);
    for (const p of partitions) {
      // Safety: everything below the committed offset reached the destination.
      for (const o of p.log) {
        if (o >= p.committed) break;
        if (!delivered.get(p)!.has(o))
          return `seed ${seed} step ${step}: ${p.topic}-${p.partition} committed ${p.committed} but offset ${o} was never delivered`;
      }
      // Asking for the commit point is itself an operation (it may tidy internal state), so it is
      // asked only now and then, as the commit timer does, not after every step.
      if (p.cursor === undefined || !observe) continue;
      const expected = referencePoint(p);
      const actual = tracker.commitPoint(p.topic, p.partition);
      if (expected !== undefined && actual !== expected)
        return `seed ${seed} step ${step}: ${p.topic}-${p.partition} commit point ${actual}, reference ${expected}`;
    }
  }
  return undefined;
}

describe('OffsetTracker against a reference model', () => {
  const seeds = modelSeeds('OFFSET_TRACKER_SEED');

  it(`never commits past an undelivered record, and commits as far as it may (${seeds.length} seeded cases)`, () => {
    expect(seededFailures(seeds, (seed) => runCase(seed, 300))).toEqual([]);
  });
});
