import { DLQ_HEADER, toDeadLetter } from '../src/kafka/dead-letter';

describe('toDeadLetter', () => {
  it('keeps the record and adds reason and origin headers', () => {
    const out = toDeadLetter({
      message: {
        topic: 'policies.changes',
        partition: 2,
        offset: '41',
        key: Buffer.from('k'),
        value: Buffer.from('{bad'),
        headers: { trace: Buffer.from('t1') },
        timestamp: 1,
      },
      reason: 'malformed_json',
      error: 'Unexpected token b',
      service: 'dwh-loader',
      now: 1700000000000,
    });
    expect(out.topic).toBe('policies.changes.dlq');
    expect(out.value).toEqual(Buffer.from('{bad'));
    expect(out.headers).toMatchObject({
      trace: Buffer.from('t1'),
      [DLQ_HEADER.reason]: 'malformed_json',
      [DLQ_HEADER.originTopic]: 'policies.changes',
      [DLQ_HEADER.originPartition]: '2',
      [DLQ_HEADER.originOffset]: '41',
      [DLQ_HEADER.timestamp]: '1700000000000',
    });
  });
});
