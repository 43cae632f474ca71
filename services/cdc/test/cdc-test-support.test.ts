import { murmur2 } from './cdc-test-support';

// Vectors from Apache Kafka's UtilsTest.testMurmur2: the partition check in the integration
// tests is only as good as this hash.
describe('murmur2 (Java client compatible)', () => {
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%s) = %d', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });
});
