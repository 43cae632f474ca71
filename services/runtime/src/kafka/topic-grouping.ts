/**
 * Shapes shared by the Kafka client implementations (pure): partitions and offsets grouped by
 * topic, as the KafkaJS-style APIs take them, and record headers read back as Buffers.
 */
import type { TopicPartition, TopicPartitionOffset } from './types';

/** Groups items by topic, keeping their order within a topic. */
function byTopic<T extends { topic: string }, V>(items: readonly T[], value: (item: T) => V): Array<[string, V[]]> {
  const groups = new Map<string, V[]>();
  for (const item of items) {
    let list = groups.get(item.topic);
    if (!list) groups.set(item.topic, (list = []));
    list.push(value(item));
  }
  return [...groups];
}

export function groupPartitions(tps: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  return byTopic(tps, (tp) => tp.partition).map(([topic, partitions]) => ({ topic, partitions }));
}

export function offsetsByTopic(offsets: readonly TopicPartitionOffset[]): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
  return byTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset })).map(([topic, partitions]) => ({ topic, partitions }));
}

export type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

/** Header values as Buffers (the first value of a repeated header). */
export function fromHeaders(headers: RecordHeaders | undefined): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = first === undefined ? undefined : Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return out;
}
