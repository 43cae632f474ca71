import { streamNamesOf } from '../src/stream-names';

describe('streamNamesOf', () => {
  const topics = ['orders', 'policies.changes', 'orders.dlq', '_tideway_kinesis_streams', '__consumer_offsets', 'k.orders', 'k._state', 'k.', 'k.a.dlq'];

  it('lists every topic but internal and dead-letter ones without a prefix', () => {
    expect(streamNamesOf(topics, '')).toEqual(['k.', 'k._state', 'k.orders', 'orders', 'policies.changes']);
  });

  it('lists the topics with the prefix, named without it', () => {
    expect(streamNamesOf(topics, 'k.')).toEqual(['orders']);
  });
});
