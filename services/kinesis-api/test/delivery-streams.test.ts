import { deliveryStreamArn, recordId, spreadPartitions } from '../src/delivery-streams';
import { decodeSequenceNumber } from '../src/sequence-number';

describe('delivery streams', () => {
  it('spread records over the partitions in turn from the start given', () => {
    expect(spreadPartitions(3, 7, 2)).toEqual([2, 0, 1, 2, 0, 1, 2]);
    expect(spreadPartitions(1, 3, 0)).toEqual([0, 0, 0]);
    expect(spreadPartitions(4, 0, 1)).toEqual([]);
  });

  it('name a record by its partition and offset: unique, and read back to the same position', () => {
    const ids = [
      { partition: 0, offset: 0n },
      { partition: 0, offset: 1n },
      { partition: 1, offset: 0n },
      { partition: 12, offset: 123456789012n },
    ].map((p) => [p, recordId(p)] as const);
    expect(new Set(ids.map(([, id]) => id)).size).toBe(ids.length);
    for (const [position, id] of ids) expect(decodeSequenceNumber(id)).toEqual(position);
  });

  it('have Firehose ARNs', () => {
    expect(deliveryStreamArn('eu-west-1', 'clicks')).toBe('arn:aws:firehose:eu-west-1:000000000000:deliverystream/clicks');
  });
});
