import { alreadyExistingTopics, topicsWithoutLeaders } from '../../src/kafka/topic-readiness';

describe('topicsWithoutLeaders', () => {
  it('names topics missing from the metadata, without partitions, or with a partition without a leader', () => {
    const md = [
      {
        name: 'ok',
        partitions: [
          { partitionId: 0, leader: 1 },
          { partitionId: 1, leader: 1, partitionErrorCode: 0 },
        ],
      },
      { name: 'empty', partitions: [] },
      {
        name: 'leaderless',
        partitions: [
          { partitionId: 0, leader: 1 },
          { partitionId: 1, leader: -1 },
        ],
      },
      { name: 'erring', partitions: [{ partitionId: 0, leader: 1, partitionErrorCode: 5 }] },
    ];
    expect(topicsWithoutLeaders(['ok', 'empty', 'leaderless', 'erring', 'missing'], md)).toEqual(['empty', 'leaderless', 'erring', 'missing']);
    expect(topicsWithoutLeaders(['ok'], md)).toEqual([]);
  });
});

describe('alreadyExistingTopics', () => {
  const exists = (topic: string) => ({ type: 'TOPIC_ALREADY_EXISTS', topic });
  it('reads an answer that only says the topics exist already', () => {
    expect(alreadyExistingTopics({ errors: [exists('a'), exists('b')] })).toEqual(['a', 'b']);
    expect(alreadyExistingTopics(exists('a'))).toEqual(['a']);
  });
  it('is undefined for any other failure', () => {
    expect(alreadyExistingTopics({ errors: [exists('a'), { type: 'INVALID_REPLICATION_FACTOR', topic: 'b' }] })).toBeUndefined();
    expect(alreadyExistingTopics(new Error('timeout'))).toBeUndefined();
    expect(alreadyExistingTopics({ errors: [] })).toBeUndefined();
    expect(alreadyExistingTopics(undefined)).toBeUndefined();
  });
});
