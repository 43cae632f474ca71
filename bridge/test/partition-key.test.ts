import { partitionKeyFor, partitionKeyHash } from '../src/partition-key';

const rec = (key: string | null, value: unknown = {}) => ({
  topic: 't',
  partition: 3,
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(JSON.stringify(value)),
});

describe('partitionKeyFor', () => {
  it('uses the Kafka key, and the Kafka partition for records without one', () => {
    expect(partitionKeyFor({ kind: 'key' }, rec('cliente-12345'))).toBe('cliente-12345');
    expect(partitionKeyFor({ kind: 'key' }, rec(null))).toBe('t-3');
  });

  it('uses a field of the value, falling back to the Kafka partition', () => {
    expect(partitionKeyFor({ kind: 'field', path: 'device.id' }, rec('k', { device: { id: 'sensor-001' } }))).toBe('sensor-001');
    expect(partitionKeyFor({ kind: 'field', path: 'device.id' }, rec('k', { other: 1 }))).toBe('t-3');
    expect(partitionKeyFor({ kind: 'field', path: 'n' }, rec('k', { n: 42 }))).toBe('42');
  });

  it('hashes keys on request and keys longer than 256 characters always', () => {
    expect(partitionKeyFor({ kind: 'hash' }, rec('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
    const long = 'x'.repeat(300);
    const pk = partitionKeyFor({ kind: 'key' }, rec(long));
    expect(pk).toHaveLength(32);
    expect(partitionKeyFor({ kind: 'key' }, rec(long))).toBe(pk);
  });

  it('random keys come from the injected source', () => {
    expect(partitionKeyFor({ kind: 'random' }, rec('k'), () => 'r1')).toBe('r1');
  });

  it('maps a partition key to the 128-bit MD5 Kinesis uses', () => {
    expect(partitionKeyHash('abc')).toBe(BigInt('0x900150983cd24fb0d6963f7d28e17f72'));
  });
});
