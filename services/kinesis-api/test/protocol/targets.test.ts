import { apiOf, servedOperation } from '../../src/protocol/targets';
import { kinesisErrorOf } from '../kinesis-error';

describe('targets', () => {
  it('tells Firehose from Kinesis by the X-Amz-Target prefix', () => {
    expect(apiOf('Firehose_20150804.PutRecord')).toBe('firehose');
    expect(apiOf('Kinesis_20131202.PutRecord')).toBe('kinesis');
    // Kinesis answers anything else with its own UnknownOperationException.
    expect(apiOf(undefined)).toBe('kinesis');
    expect(apiOf('firehose_20150804.PutRecord')).toBe('kinesis');
  });

  it('servedOperation: the operation, or UnknownOperationException for another prefix or name', () => {
    expect(servedOperation('P.B', 'P.', ['A', 'B'])).toBe('B');
    expect(kinesisErrorOf(() => servedOperation('P.C', 'P.', ['A', 'B'])).message).toBe('Operation C is not supported. Supported operations: A, B');
    expect(kinesisErrorOf(() => servedOperation('Q.A', 'P.', ['A'])).message).toBe("Expected an X-Amz-Target header of the form P.<Operation>, got 'Q.A'");
  });
});
