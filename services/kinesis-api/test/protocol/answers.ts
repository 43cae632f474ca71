/**
 * Answers and sinks for the tests of the JSON writer and of wire.ts: random answers, GetRecords
 * answers, the JSON.stringify reference, and a sink that is behind at random and checks that no
 * piece changes before it was sent.
 */
import { Deferred, StreamedList, type BodySink } from '../../src/protocol/json-writer';
import { seededRandom } from '../../../../test-support/seeded-random';

/** The reference: the answer copied with blobs as base64 and timestamps as epoch seconds, then JSON.stringify. */
export function reference(value: unknown): Buffer {
  const wire = (v: unknown): unknown => {
    if (v instanceof Date) return v.getTime() / 1000;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (Array.isArray(v)) return v.map(wire);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wire(x)]));
    return v;
  };
  return Buffer.from(JSON.stringify(wire(value)), 'utf8');
}

/** Random answers: nested objects and lists of text (ASCII, escapes, beyond ASCII), numbers, blobs and timestamps. */
export function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 3 ? 6 : 8));
  const text = () =>
    Array.from({ length: Math.floor(random() * 40) }, () => {
      const r = random();
      if (r < 0.7) return String.fromCharCode(0x20 + Math.floor(random() * 95));
      if (r < 0.8) return String.fromCharCode(Math.floor(random() * 0x20));
      if (r < 0.9) return String.fromCharCode(0x80 + Math.floor(random() * 0x2000));
      return random() < 0.5 ? '😀' : '\ud800';
    }).join('');
  switch (pick) {
    case 0:
      return text();
    case 1:
      return random() < 0.2 ? [NaN, Infinity, -0][Math.floor(random() * 3)] : (random() - 0.5) * 10 ** Math.floor(random() * 20);
    case 2:
      return [true, false, null, undefined][Math.floor(random() * 4)];
    case 3:
      return Buffer.from(Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256)));
    case 4:
      return new Date(Math.floor(random() * 2 ** 41));
    case 5:
      return 'x'.repeat(Math.floor(random() * 300_000));
    case 6:
      return Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [text(), randomValue(random, depth + 1)]));
  }
}

/** A GetRecords answer of about `records` KiB of data. */
export function getRecordsAnswer(records: number, seed: number) {
  const random = seededRandom(seed);
  return {
    Records: Array.from({ length: records }, (_, i) => ({
      SequenceNumber: String(10n ** 40n + BigInt(i)),
      ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + i),
      Data: Buffer.from(Array.from({ length: 1 + Math.floor(random() * 2048) }, () => Math.floor(random() * 256))),
      PartitionKey: i % 3 === 0 ? `clé-${i}-€` : `key-${i}`,
    })),
    NextShardIterator: 'AAAA',
    MillisBehindLatest: 0,
  };
}

/**
 * A sink that copies every piece when it is written and checks, when the piece is reported sent,
 * that its bytes are still those (a chunk reused too early would have changed). Behind at random;
 * it drains, and reports pieces sent, a few turns later in any order.
 */
export function checkingSink(random: () => number, options: { closeAfterPieces?: number } = {}) {
  const written: Buffer[] = [];
  const unsent: Array<() => void> = [];
  let closed = false;
  let corrupted = 0;
  const settleSome = () => {
    while (unsent.length > 0 && random() < 0.7) unsent.splice(Math.floor(random() * unsent.length), 1)[0]();
  };
  const sink: BodySink = {
    write(part, sent) {
      if (closed) throw new Error('written after the sink went away');
      const copy = Buffer.from(part);
      written.push(copy);
      unsent.push(() => {
        if (!part.equals(copy)) corrupted++;
        sent(!closed);
      });
      if (options.closeAfterPieces !== undefined && written.length >= options.closeAfterPieces) closed = true;
      return random() < 0.5;
    },
    drained: async () => {
      for (let i = Math.floor(random() * 3); i >= 0; i--) {
        await Promise.resolve();
        settleSome();
      }
      return !closed;
    },
  };
  const finish = () => {
    while (unsent.length > 0) unsent.shift()!();
  };
  return { sink, written, finish, corrupted: () => corrupted };
}

/** The items in batches of `sizes`, each a turn after the last (as fetches arrive). */
export async function* batches(items: unknown[], sizes: number[]): AsyncGenerator<unknown[]> {
  let at = 0;
  for (const n of sizes) {
    await Promise.resolve();
    yield items.slice(at, at + n);
    at += n;
  }
}

/** One top-level member of a random streamed answer, and what it is once written. */
type PlannedMember =
  | { key: string; kind: 'plain'; value: unknown }
  | { key: string; kind: 'streamed'; items: unknown[]; sizes: number[] }
  | { key: string; kind: 'read' }
  | { key: string; kind: 'deferred'; value: unknown };

/**
 * A random answer whose top-level members are of every kind the writer meets there, in any order:
 * values, members JSON.stringify leaves out (`leftOut`), plain lists, StreamedLists arriving in
 * batches, Deferreds of any value (a list or undefined too), and Deferreds telling how many items
 * were read before they were taken. `make` builds it afresh (a StreamedList is read once); `whole`
 * is the answer as written, for JSON.stringify; `streamed` tells whether it has a StreamedList or
 * a Deferred.
 */
export function randomStreamedAnswer(
  seed: number,
  leftOut: readonly unknown[] = [undefined, () => 1, Symbol('s')],
): { make: () => Record<string, unknown>; whole: Record<string, unknown>; streamed: boolean } {
  const random = seededRandom(seed);
  const plan: PlannedMember[] = Array.from({ length: Math.floor(random() * 8) }, (_, i): PlannedMember => {
    // Integer keys come first in an object's key order, whatever the order they were set in.
    const key = random() < 0.2 ? String(i) : `m${i}${random() < 0.3 ? '-é"\\' : ''}`;
    switch (Math.floor(random() * 7)) {
      case 0:
        return { key, kind: 'plain', value: leftOut[Math.floor(random() * leftOut.length)] };
      case 1:
        return { key, kind: 'plain', value: getRecordsAnswer(Math.floor(random() * (random() < 0.2 ? 600 : 20)), seed + i).Records };
      case 2: {
        const items = getRecordsAnswer(Math.floor(random() * (random() < 0.3 ? 600 : 20)), seed + i).Records;
        const sizes: number[] = [];
        for (let left = items.length; left > 0 || random() < 0.2;) {
          const n = Math.min(left, Math.floor(random() * 200));
          sizes.push(n);
          left -= n;
        }
        return { key, kind: 'streamed', items, sizes };
      }
      case 3:
        return { key, kind: 'read' };
      case 4:
        return { key, kind: 'deferred', value: random() < 0.3 ? leftOut[Math.floor(random() * leftOut.length)] : randomValue(random, 2) };
      default:
        return { key, kind: 'plain', value: randomValue(random, 2) };
    }
  });
  // The members in the answer's key order, which puts integer keys first.
  const byKey: Record<string, PlannedMember> = {};
  for (const m of plan) byKey[m.key] = m;
  const whole: Record<string, unknown> = {};
  let readSoFar = 0;
  for (const m of Object.values(byKey)) {
    whole[m.key] = m.kind === 'streamed' ? m.items : m.kind === 'read' ? `read-${readSoFar}` : m.value;
    if (m.kind === 'streamed') readSoFar += m.items.length;
  }
  const make = () => {
    let read = 0;
    const counted = async function* (items: unknown[], sizes: number[]) {
      for await (const b of batches(items, sizes)) {
        read += b.length;
        yield b;
      }
    };
    const value: Record<string, unknown> = {};
    for (const m of plan) {
      if (m.kind === 'streamed') value[m.key] = new StreamedList(counted(m.items, m.sizes));
      else if (m.kind === 'read') value[m.key] = new Deferred(() => `read-${read}`);
      else if (m.kind === 'deferred') value[m.key] = new Deferred(() => m.value);
      else value[m.key] = m.value;
    }
    return value;
  };
  return { make, whole, streamed: plan.some((m) => m.kind === 'streamed' || m.kind === 'read' || m.kind === 'deferred') };
}
