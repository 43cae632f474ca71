/**
 * Records of the repartition topic. Stage 1 writes the events of one transaction bound for one
 * repartition partition as one record (a JSON array, in input order), instead of one record per
 * event and rule: the per-record cost of producing and consuming dominated the pipeline.
 * The partition is the one a record keyed by the (rule, key) state key would get, so each
 * (rule, key) keeps one partition and its order. Pure.
 */
import { keyPartition, type OutgoingMessage } from '@tideway/runtime';
import { stateKeyOf, type ForwardedEvent } from './input-evaluator';

/** Bundle records stay well under the broker's 1 MiB message.max.bytes. */
export const MAX_BUNDLE_BYTES = 256 * 1024;

/** Hashing the same (rule, key) for every event showed in profiles: remember recent ones. */
const partitionCache = new Map<string, number>();

export function partitionOfEvent(ev: ForwardedEvent, partitions: number): number {
  const sk = stateKeyOf(ev.r, ev.k);
  const cacheKey = `${partitions}\u0000${sk}`;
  let p = partitionCache.get(cacheKey);
  if (p === undefined) {
    p = keyPartition(sk, partitions);
    if (partitionCache.size >= 100_000) partitionCache.clear();
    partitionCache.set(cacheKey, p);
  }
  return p;
}

/**
 * Forwarded events of one pending transaction, encoded as they arrive (so the event objects do
 * not live until the commit) and grouped by destination partition.
 */
export class RepartitionBundler {
  private readonly byPartition = new Map<number, string[]>();
  constructor(private readonly partitions: number) {}

  add(ev: ForwardedEvent): void {
    const p = partitionOfEvent(ev, this.partitions);
    let list = this.byPartition.get(p);
    if (!list) this.byPartition.set(p, (list = []));
    list.push(JSON.stringify(ev));
  }

  /** One or more records per destination partition, each at most `maxBytes` of JSON (a single larger event goes alone). */
  records(topic: string, maxBytes = MAX_BUNDLE_BYTES): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const [partition, items] of [...this.byPartition].sort((a, b) => a[0] - b[0])) {
      let cur: string[] = [];
      let size = 2;
      for (const item of items) {
        if (cur.length > 0 && size + item.length + 1 > maxBytes) {
          out.push({ topic, partition, key: null, value: `[${cur.join(',')}]` });
          cur = [];
          size = 2;
        }
        cur.push(item);
        size += item.length + 1;
      }
      if (cur.length > 0) out.push({ topic, partition, key: null, value: `[${cur.join(',')}]` });
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
