/** Pure readings of topic-creation answers and topic metadata. */

interface PartitionMetadataLike {
  partitionId: number;
  leader: number;
  partitionErrorCode?: number;
}

interface TopicMetadataLike {
  name: string;
  partitions: PartitionMetadataLike[];
}

/** Topics of `wanted` that are missing from `metadata`, have no partition, or a partition without a leader. */
export function topicsWithoutLeaders(wanted: string[], metadata: TopicMetadataLike[]): string[] {
  const byName = new Map(metadata.map((t) => [t.name, t]));
  return wanted.filter((name) => {
    const t = byName.get(name);
    return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0 || (p.partitionErrorCode ?? 0) !== 0);
  });
}

/**
 * A create-topics failure that only says "already exists" (someone else created them first):
 * the names concerned. Undefined for any other failure.
 */
export function alreadyExistingTopics(err: unknown): string[] | undefined {
  const o = err as { type?: unknown; topic?: unknown; errors?: unknown } | null;
  if (!o || typeof o !== 'object') return undefined;
  const errors = Array.isArray(o.errors) ? (o.errors as Array<{ type?: unknown; topic?: unknown }>) : [o];
  if (errors.length === 0 || !errors.every((e) => e && e.type === 'TOPIC_ALREADY_EXISTS')) return undefined;
  return errors.map((e) => (typeof e.topic === 'string' ? e.topic : '')).filter(Boolean);
}
