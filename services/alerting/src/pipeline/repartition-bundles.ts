/**
 * Records of the repartition topic. Stage 1 writes the events of one transaction bound for one
 * repartition partition as one record (a JSON array, in input order; more than one when large),
 * instead of one record per event and rule: the per-record cost of producing and consuming
 * dominated the pipeline.
 * The partition is the one a record keyed by the (rule, key) state key would get, so each
 * (rule, key) keeps one partition and its order. Pure.
 */
import { keyPartition, type OutgoingMessage } from '@tideway/runtime';
import { stateKeyOf, type ForwardedEvent } from './input-evaluator';
import { groupBySize } from './size-groups';

/** Bundle records stay well under the broker's 1 MiB message.max.bytes. */
export const MAX_BUNDLE_BYTES = 256 * 1024;

/** Hashing the same (rule, key) for every event showed in profiles: remember recent ones, per partition count and rule. */
const partitionCache = new Map<number, Map<string, Map<string, number>>>();
let cachedPartitions = 0;

export function partitionOfEvent(ev: ForwardedEvent, partitions: number): number {
  let byRule = partitionCache.get(partitions);
  if (!byRule) partitionCache.set(partitions, (byRule = new Map()));
  let byKey = byRule.get(ev.r);
  if (!byKey) byRule.set(ev.r, (byKey = new Map()));
  let p = byKey.get(ev.k);
  if (p === undefined) {
    p = keyPartition(stateKeyOf(ev.r, ev.k), partitions);
    if (cachedPartitions >= 100_000) {
      partitionCache.clear();
      cachedPartitions = 0;
      return p;
    }
    byKey.set(ev.k, p);
    cachedPartitions++;
  }
  return p;
}

/** Encoded events bound for one repartition partition: JSON items joined by commas, in input order. */
export interface ForwardedFragment {
  partition: number;
  json: string;
}

/**
 * Encodes forwarded events as they are evaluated, grouped by destination partition into
 * fragments of about `fragmentBytes` (so the event objects do not live until the commit, and
 * few strings cross from an evaluation thread).
 */
export class FragmentEncoder {
  private readonly open = new Map<number, { items: string[]; size: number }>();
  private readonly done: ForwardedFragment[] = [];
  /** JSON bytes encoded so far (pending-memory accounting). */
  bytes = 0;

  constructor(
    private readonly partitions: number,
    private readonly fragmentBytes = MAX_BUNDLE_BYTES / 4,
  ) {}

  add(ev: ForwardedEvent): void {
    const p = partitionOfEvent(ev, this.partitions);
    const item = JSON.stringify(ev);
    this.bytes += item.length;
    let cur = this.open.get(p);
    if (cur && cur.size + item.length + 1 > this.fragmentBytes) {
      this.done.push({ partition: p, json: cur.items.join(',') });
      cur = undefined;
    }
    if (!cur) this.open.set(p, (cur = { items: [], size: 0 }));
    cur.items.push(item);
    cur.size += item.length + 1;
  }

  /** Every fragment, in the order the events were added (per partition). */
  finish(): ForwardedFragment[] {
    const out = this.done.splice(0);
    for (const [partition, cur] of this.open) out.push({ partition, json: cur.items.join(',') });
    this.open.clear();
    return out;
  }
}

/** The forwarded events of one pending transaction: fragments of its batches, per destination partition. */
export class RepartitionBundler {
  private readonly byPartition = new Map<number, string[]>();

  addFragments(fragments: ForwardedFragment[]): void {
    for (const f of fragments) {
      let list = this.byPartition.get(f.partition);
      if (!list) this.byPartition.set(f.partition, (list = []));
      list.push(f.json);
    }
  }

  /** One or more records per destination partition, each at most `maxBytes` of JSON (a larger fragment goes alone). */
  records(topic: string, maxBytes = MAX_BUNDLE_BYTES): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const [partition, fragments] of [...this.byPartition].sort((a, b) => a[0] - b[0])) {
      // Each fragment costs its length and a comma; the brackets cost 2.
      for (const group of groupBySize(fragments, (f) => f.length + 1, maxBytes - 2)) out.push({ topic, partition, key: null, value: `[${group.join(',')}]` });
    }
    return out;
  }
}

function isForwarded(v: unknown): v is ForwardedEvent {
  const e = v as ForwardedEvent;
  return typeof e === 'object' && e !== null && typeof e.r === 'string' && typeof e.k === 'string' && typeof e.t === 'number';
}

/** The events of a repartition record: a bundle (array) or, from earlier versions, one event. Throws on anything else. */
export function decodeRepartitionValue(value: Buffer | null): ForwardedEvent[] {
  const parsed: unknown = JSON.parse(value?.toString('utf8') ?? 'null');
  const events = Array.isArray(parsed) ? parsed : [parsed];
  for (const e of events) if (!isForwarded(e)) throw new Error('not a forwarded event');
  return events as ForwardedEvent[];
}
