/**
 * Model-based test of the ack ledger as the capture uses it (change-stream.ts, ordered-writer.ts,
 * capture.ts): seeded random interleavings of a replication stream (transactions read change by
 * change, large ones across many sends; empty or filtered transactions; keepalives inside and
 * outside transactions), status updates (the heartbeat timer: keepalives asking for a reply get
 * none sooner; and the timer after a safe position), Kafka sends acknowledged in order, failing and
 * retried, lost connections (the writer drains, then the slot replays from its confirmed
 * position) and crashes (everything in flight is lost; a new process replays from the slot).
 *
 * Checked against the WAL and what Kafka holds:
 *  - safety, whenever a status update reaches the server: no transaction that ends at or before
 *    the slot's confirmed_flush_lsn has a change Kafka never acknowledged;
 *  - progress: once Kafka has acknowledged everything, the confirmed position is the last commit
 *    (or keepalive) marked.
 * A failing case prints its seed; `ACK_LEDGER_SEED=n` replays it alone.
 */
import { seededRandom, type SeededRandom, modelSeeds, seededFailures } from '../../../test-support/seeded-random';
import { AckLedger } from '../src/ack-ledger';
import type { Lsn } from '../src/lsn';

interface Transaction {
  xid: number;
  /** Records each change produces (0: a change of a table that is not captured). */
  changes: number[];
  /** End of the commit record: what the commit makes safe. */
  endLsn: Lsn;
}

function makeWal(r: SeededRandom, count: number): Transaction[] {
  const wal: Transaction[] = [];
  let lsn = 1000n;
  for (let xid = 1; xid <= count; xid++) {
    const n = r.chance(0.15) ? 0 : r.chance(0.1) ? 20 + r.int(40) : 1 + r.int(5);
    const changes = Array.from({ length: n }, () => (r.chance(0.1) ? 0 : r.chance(0.1) ? 2 : 1));
    lsn += BigInt(1 + 100 * n + r.int(50));
    wal.push({ xid, changes, endLsn: lsn });
  }
  return wal;
}

/** One running process: its ledger, what it pushed (by sequence number) and its session. */
interface Process {
  ledger: AckLedger;
  /** Records by sequence number: `${xid}:${change}:${i}`. */
  pushed: string[];
  /** Sequence number up to which Kafka acknowledged (sends are in order: a prefix). */
  acked: number;
  /** Sequence number up to which sends were attempted (the send in flight ends here). */
  sending: number;
  /** The capture's `confirmed`: the newest safe position reported by the ledger. */
  confirmed: Lsn;
  /** The last position marked, and whether it was marked with nothing left to acknowledge. */
  lastMarked?: Lsn;
  session: Session;
}

interface Session {
  /** Index in the WAL of the transaction being (or next to be) read. */
  tx: number;
  /** Next message of that transaction: 0 = begin, 1..n = changes, n+1 = commit. */
  step: number;
  inTransaction: boolean;
  /** End of the last WAL record the server has sent: a keepalive's walEnd. */
  sentPtr: Lsn;
}

function runCase(seed: number, steps: number): string | undefined {
  const r = seededRandom(seed);
  const wal = makeWal(r, 60);
  /** The slot's confirmed_flush_lsn. */
  let slotConfirmed: Lsn = 0n;
  const delivered = new Set<string>();

  // The server starts at the first transaction whose commit is past the slot's confirmed position.
  const newSession = (): Session => {
    const tx = wal.findIndex((t) => t.endLsn > slotConfirmed);
    return { tx: tx < 0 ? wal.length : tx, step: 0, inTransaction: false, sentPtr: slotConfirmed };
  };
  const newProcess = (): Process => ({ ledger: new AckLedger(), pushed: [], acked: 0, sending: 0, confirmed: 0n, session: newSession() });
  let p = newProcess();

  /** capture.onSafe: the confirmed position only moves forward. */
  const settle = () => {
    const safe = p.ledger.acknowledge(p.acked);
    if (safe && safe.lsn > p.confirmed) p.confirmed = safe.lsn;
  };
  /** OrderedKafkaWriter.markSafeAfterPushed. */
  const mark = (lsn: Lsn, commitTimeMs?: number) => {
    p.ledger.mark(lsn, commitTimeMs);
    p.lastMarked = lsn;
    if (p.ledger.unacknowledged === 0) settle();
  };
  /** A standby status update: the server takes the flush position (0 means none). */
  const sendStatus = (): string | undefined => {
    if (p.confirmed === 0n) return undefined;
    if (p.confirmed > slotConfirmed) slotConfirmed = p.confirmed;
    for (const t of wal) {
      if (t.endLsn > slotConfirmed) break;
      for (let c = 0; c < t.changes.length; c++) {
        for (let i = 0; i < t.changes[c]; i++) {
          const id = `${t.xid}:${c}:${i}`;
          if (!delivered.has(id))
            return `slot confirmed ${slotConfirmed} past transaction ${t.xid} (end ${t.endLsn}) whose record ${id} Kafka never acknowledged`;
        }
      }
    }
    return undefined;
  };

  for (let step = 0; step < steps; step++) {
    const op = r();
    const s = p.session;
    let failure: string | undefined;
    if (op < 0.45 && s.tx < wal.length) {
      // the server sends the next message of the stream (change-stream.ts: apply)
      const t = wal[s.tx];
      if (s.step === 0) {
        // The server decodes a transaction whole and sends it once it read the commit record, so
        // while its messages arrive the server's position is already the end of the commit.
        s.inTransaction = true;
        s.sentPtr = t.endLsn;
        s.step++;
      } else if (s.step <= t.changes.length) {
        const c = s.step - 1;
        for (let i = 0; i < t.changes[c]; i++) p.pushed.push(`${t.xid}:${c}:${i}`);
        p.ledger.append(t.changes[c]);
        s.step++;
      } else {
        mark(t.endLsn, t.xid);
        s.inTransaction = false;
        s.tx++;
        s.step = 0;
      }
    } else if (op < 0.55) {
      // a keepalive: outside a transaction everything before walEnd was handed to the writer
      if (!s.inTransaction) mark(s.sentPtr);
      // the heartbeat: a status update with the confirmed position
      if (r.chance(0.5)) failure = sendStatus();
    } else if (op < 0.75 && p.sending < p.pushed.length) {
      // the writer sends what accumulated (one send in flight at a time)
      if (p.sending === p.acked) p.sending = Math.min(p.pushed.length, p.acked + 1 + r.int(30));
    } else if (op < 0.85 && p.sending > p.acked) {
      // Kafka answers the send in flight: acknowledged, or failed (the same batch is retried later)
      if (r.chance(0.8)) {
        for (let i = p.acked; i < p.sending; i++) delivered.add(p.pushed[i]);
        p.acked = p.sending;
        settle();
      } else if (r.chance(0.3)) {
        // a failed send may still have written part of the batch (a retry duplicates it)
        for (let i = p.acked; i < p.sending; i++) if (r.chance(0.5)) delivered.add(p.pushed[i]);
      }
    } else if (op < 0.93) {
      // the status timer after a safe position
      failure = sendStatus();
    } else if (op < 0.97) {
      // the replication connection is lost: the writer drains, the status is sent, the slot replays
      if (p.sending < p.pushed.length) p.sending = p.pushed.length;
      for (let i = p.acked; i < p.sending; i++) delivered.add(p.pushed[i]);
      p.acked = p.sending;
      settle();
      failure = sendStatus();
      p.session = newSession();
    } else {
      // SIGKILL: records in flight may or may not have reached Kafka; a new process replays from the slot
      for (let i = p.acked; i < p.sending; i++) if (r.chance(0.5)) delivered.add(p.pushed[i]);
      p = newProcess();
    }
    if (failure) return `seed ${seed} step ${step}: ${failure}`;

    // Progress, observed when the real code would look: everything acknowledged, nothing in flight.
    if (p.ledger.unacknowledged === 0 && p.lastMarked !== undefined && p.confirmed < p.lastMarked) {
      return `seed ${seed} step ${step}: everything acknowledged but confirmed ${p.confirmed} is behind the last marked position ${p.lastMarked}`;
    }
  }
  return undefined;
}

describe('AckLedger against a model of the replication stream and Kafka', () => {
  const seeds = modelSeeds('ACK_LEDGER_SEED');

  it(`never confirms past an unacknowledged change, and confirms everything acknowledged (${seeds.length} seeded cases)`, () => {
    expect(seededFailures(seeds, (seed) => runCase(seed, 300))).toEqual([]);
  });
});
