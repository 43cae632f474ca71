import { internalTopics, topicSpecs } from '../../src/io/topic-setup';

describe('topicSpecs', () => {
  it('names the internal topics, the alerts and sink topics, and the dead-letter topics of what is read', () => {
    const s = { groupId: 'g', topicReplicationFactor: 3, internalPartitions: 4, dlqSuffix: '.dlq', alertsTopic: 'alerts' };
    const specs = topicSpecs(s, { inputTopics: ['orders'], outputTopics: ['sink'] });
    expect(internalTopics('g')).toEqual({ repartition: 'g.repartition', changelog: 'g.changelog' });
    expect(specs.map((t) => [t.topic, t.partitions])).toEqual([
      ['g.repartition', 4],
      ['g.changelog', 4],
      ['g.repartition.dlq', 1],
      ['alerts', 1],
      ['sink', 1],
      ['orders.dlq', 1],
    ]);
    expect(specs.every((t) => t.replicationFactor === 3)).toBe(true);
    expect(specs[1].configs).toEqual({ 'cleanup.policy': 'compact' });
  });
});
