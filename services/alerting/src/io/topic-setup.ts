/**
 * The topics the alerting service writes: its internal repartition and changelog topics (which
 * must agree on their partition count), the alerts topic, the rules' sink topics and the
 * dead-letter topics of what it reads. Created when ALERTING_CREATE_TOPICS is on.
 */
import { ConfigError, type Admin, type KafkaClient, type Logger, type TopicSpec } from '@tideway/runtime';
import type { AlertingSettings } from '../config';
import type { RuleSet } from '../rules/rule-file';
import { waitForTopics } from './input-topics';

export function internalTopics(groupId: string) {
  return { repartition: `${groupId}.repartition`, changelog: `${groupId}.changelog` };
}

type TopicSettings = Pick<AlertingSettings, 'groupId' | 'topicReplicationFactor' | 'internalPartitions' | 'dlqSuffix' | 'alertsTopic'>;

/** Every topic the service writes for these rules. Pure. */
export function topicSpecs(s: TopicSettings, rules: Pick<RuleSet, 'inputTopics' | 'outputTopics'>): TopicSpec[] {
  const internal = internalTopics(s.groupId);
  const rf = s.topicReplicationFactor;
  return [
    { topic: internal.repartition, partitions: s.internalPartitions, replicationFactor: rf },
    { topic: internal.changelog, partitions: s.internalPartitions, replicationFactor: rf, configs: { 'cleanup.policy': 'compact' } },
    { topic: `${internal.repartition}${s.dlqSuffix}`, partitions: 1, replicationFactor: rf },
    { topic: s.alertsTopic, partitions: 1, replicationFactor: rf },
    ...rules.outputTopics.map((topic) => ({ topic, partitions: 1, replicationFactor: rf })),
    ...rules.inputTopics.map((topic) => ({ topic: `${topic}${s.dlqSuffix}`, partitions: 1, replicationFactor: rf })),
  ];
}

export async function withAdmin<T>(kafka: KafkaClient, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates the topics (when configured to); a ConfigError when the internal topics disagree. */
export async function ensureTopics(kafka: KafkaClient, s: AlertingSettings, rules: RuleSet): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const internal = internalTopics(s.groupId);
    if (s.createTopics) await admin.ensureTopics(topicSpecs(s, rules));
    const [rp, cp] = [await admin.partitionCount(internal.repartition), await admin.partitionCount(internal.changelog)];
    if (rp === 0 || rp !== cp) {
      const what = `internal topics ${internal.repartition} (${rp} partitions) and ${internal.changelog} (${cp})`;
      throw new ConfigError('ALERTING_GROUP_ID', `${what} must exist with the same partition count`);
    }
  });
}

/** Resolves once every topic the rules read exists (or `signal` aborts). */
export function waitForRuleTopics(kafka: KafkaClient, rules: RuleSet, logger: Logger, signal: AbortSignal): Promise<void> {
  return withAdmin(kafka, (admin) => waitForTopics(admin, [...rules.inputTopics, ...rules.tableTopics], logger, signal));
}
