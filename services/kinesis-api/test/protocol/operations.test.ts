import { MAX_PUT_RECORDS, OPERATIONS, operationOf, readRequest, type Operation } from '../../src/protocol/operations';
import { encodeBody, decodeBody, type WireFormat } from '../../src/protocol/wire';
import { kinesisErrorOf } from '../kinesis-error';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A request as a client sends it: a JSON body as boto3 writes it. */
const json = <O extends Operation>(op: O, body: Record<string, unknown>) => readRequest(op, 'json', decodeBody('json', Buffer.from(JSON.stringify(body))));
const rejected = (op: Operation, body: Record<string, unknown>) => kinesisErrorOf(() => json(op, body));

describe('operationOf', () => {
  it('reads the operation from X-Amz-Target', () => {
    for (const op of OPERATIONS) expect(operationOf(`Kinesis_20131202.${op}`)).toBe(op);
  });

  it.each([
    ['Kinesis_20131202.SplitShard', 'Operation SplitShard is not supported. Supported operations: CreateStream,'],
    ['Firehose_20150804.PutRecord', 'Expected an X-Amz-Target header of the form Kinesis_20131202.<Operation>'],
    [undefined, 'got none'],
  ])('answers UnknownOperationException for %s', (target, message) => {
    const err = kinesisErrorOf(() => operationOf(target));
    expect(err.name).toBe('UnknownOperationException');
    expect(err.message).toContain(message);
  });
});

describe('requests', () => {
  it('PutRecord: the data decoded, the key and optional hash key', () => {
    expect(json('PutRecord', { StreamName: 'orders', Data: b64('{"id":1}'), PartitionKey: 'customer-1' })).toEqual({
      streamName: 'orders',
      data: Buffer.from('{"id":1}'),
      partitionKey: 'customer-1',
      explicitHashKey: undefined,
      sequenceNumberForOrdering: undefined,
    });
    expect(json('PutRecord', { StreamName: 'orders', Data: '', PartitionKey: 'k', ExplicitHashKey: '42' }).explicitHashKey).toBe('42');
  });

  it('PutRecord in CBOR, as the Java SDK sends it (bytes)', () => {
    const body = decodeBody('cbor', encodeBody('cbor', { StreamName: 'orders', Data: Buffer.from([1, 2, 3]), PartitionKey: 'k' }));
    expect(readRequest('PutRecord', 'cbor', body).data).toEqual(Buffer.from([1, 2, 3]));
  });

  it('names the stream by StreamARN too', () => {
    expect(json('DescribeStreamSummary', { StreamARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/orders' })).toEqual({ streamName: 'orders' });
    expect(rejected('DescribeStreamSummary', { StreamName: 'a', StreamARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/b' }).name).toBe(
      'InvalidArgumentException',
    );
    expect(rejected('DescribeStreamSummary', {}).message).toBe(
      "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null (give StreamName or StreamARN)",
    );
  });

  it('checks StreamName as Kinesis does, gathering every problem in one ValidationException', () => {
    const err = rejected('PutRecord', { StreamName: 'a/b', Data: b64('x'), PartitionKey: '' });
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(
      "2 validation errors detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value 'a/b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    );
    expect(rejected('DescribeStreamSummary', { StreamName: 'x'.repeat(129) }).message).toContain('Member must have length less than or equal to 128');
    expect(json('DescribeStreamSummary', { StreamName: 'a'.repeat(128) }).streamName).toHaveLength(128);
  });

  it('a PartitionKey is 1 to 256 characters', () => {
    expect(json('PutRecord', { StreamName: 's', Data: '', PartitionKey: 'é'.repeat(256) }).partitionKey).toHaveLength(256);
    expect(rejected('PutRecord', { StreamName: 's', Data: '', PartitionKey: 'k'.repeat(257) }).message).toContain(
      "at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256",
    );
  });

  it('Data is at most 1 MiB, and with its partition key too', () => {
    const mib = Buffer.alloc(1024 * 1024).toString('base64');
    expect(rejected('PutRecord', { StreamName: 's', Data: Buffer.alloc(1024 * 1024 + 1).toString('base64'), PartitionKey: 'k' }).message).toContain(
      "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
    );
    const err = rejected('PutRecord', { StreamName: 's', Data: mib, PartitionKey: 'k' });
    expect([err.name, err.message]).toEqual([
      'InvalidArgumentException',
      'Record size (data and partition key, 1048577 bytes) exceeds the limit of 1048576 bytes.',
    ]);
  });

  it('an ExplicitHashKey must be a decimal of up to 39 digits', () => {
    expect(rejected('PutRecord', { StreamName: 's', Data: '', PartitionKey: 'k', ExplicitHashKey: '0x10' }).message).toContain(
      'Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})',
    );
  });

  it('a member of the wrong type is SerializationException', () => {
    expect(rejected('PutRecord', { StreamName: 's', Data: 'not base64!', PartitionKey: 'k' }).name).toBe('SerializationException');
    expect(rejected('CreateStream', { StreamName: 's', ShardCount: '2' }).name).toBe('SerializationException');
    expect(rejected('PutRecords', { StreamName: 's', Records: {} }).name).toBe('SerializationException');
  });

  describe('PutRecords', () => {
    const rec = (i: number) => ({ Data: b64(`r${i}`), PartitionKey: `k${i}` });

    it('reads up to 500 records', () => {
      const req = json('PutRecords', { StreamName: 's', Records: Array.from({ length: MAX_PUT_RECORDS }, (_, i) => rec(i)) });
      expect(req.records).toHaveLength(500);
      expect(req.records[499]).toEqual({ data: Buffer.from('r499'), partitionKey: 'k499', explicitHashKey: undefined });
    });

    it('refuses 0 or 501 records', () => {
      expect(rejected('PutRecords', { StreamName: 's', Records: [] }).message).toContain(
        "at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
      expect(rejected('PutRecords', { StreamName: 's', Records: Array.from({ length: 501 }, (_, i) => rec(i)) }).message).toContain(
        'Member must have length less than or equal to 500',
      );
    });

    it('names the record of a member problem', () => {
      expect(rejected('PutRecords', { StreamName: 's', Records: [rec(0), { Data: '' }] }).message).toBe(
        "1 validation error detected: Value null at 'records.2.member.partitionKey' failed to satisfy constraint: Member must not be null",
      );
    });

    it('refuses more than 5 MiB in all', () => {
      const big = Buffer.alloc(1024 * 1024 - 10).toString('base64');
      const records = Array.from({ length: 6 }, (_, i) => ({ Data: big, PartitionKey: `k${i}` }));
      expect(json('PutRecords', { StreamName: 's', Records: records.slice(0, 5) }).records).toHaveLength(5);
      const err = rejected('PutRecords', { StreamName: 's', Records: records });
      expect([err.name, err.message]).toEqual([
        'InvalidArgumentException',
        `Records size (${6 * (1024 * 1024 - 10 + 2)} bytes) exceeds the limit of 5242880 bytes per PutRecords request.`,
      ]);
    });
  });

  describe('GetShardIterator', () => {
    const base = { StreamName: 's', ShardId: 'shardId-000000000000' };

    it('reads each iterator type with what it needs', () => {
      expect(json('GetShardIterator', { ...base, ShardIteratorType: 'TRIM_HORIZON' }).type).toBe('TRIM_HORIZON');
      expect(
        json('GetShardIterator', { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '49' + '0'.repeat(54) }).startingSequenceNumber,
      ).toBe('49' + '0'.repeat(54));
      expect(json('GetShardIterator', { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: 1700000000.5 }).timestamp).toEqual(new Date(1_700_000_000_500));
    });

    it('AT_TIMESTAMP in CBOR takes epoch milliseconds', () => {
      const body = decodeBody('cbor', encodeBody('cbor', { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(1_700_000_000_500) }));
      expect(readRequest('GetShardIterator', 'cbor', body).timestamp).toEqual(new Date(1_700_000_000_500));
    });

    it.each([
      [{ ShardIteratorType: 'AT_SEQUENCE_NUMBER' }, 'Must specify StartingSequenceNumber for AT_SEQUENCE_NUMBER ShardIteratorType.'],
      [{ ShardIteratorType: 'AT_TIMESTAMP' }, 'Must specify timestamp for AT_TIMESTAMP ShardIteratorType.'],
      [{ ShardIteratorType: 'LATEST', StartingSequenceNumber: '1' }, 'Request should not have StartingSequenceNumber for LATEST ShardIteratorType.'],
      [{ ShardIteratorType: 'LATEST', Timestamp: 1 }, 'Request should not have timestamp for LATEST ShardIteratorType.'],
    ])('%j is InvalidArgumentException', (extra, message) => {
      const err = rejected('GetShardIterator', { ...base, ...extra });
      expect([err.name, err.message]).toEqual(['InvalidArgumentException', message]);
    });

    it('an unknown type fails the enum constraint', () => {
      expect(rejected('GetShardIterator', { ...base, ShardIteratorType: 'OLDEST' }).message).toContain(
        "Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
      );
    });
  });

  it('GetRecords: an iterator of 1..512 characters and a Limit of 1..10000', () => {
    expect(json('GetRecords', { ShardIterator: 'abc', Limit: 10_000 })).toEqual({ shardIterator: 'abc', limit: 10_000 });
    expect(rejected('GetRecords', { ShardIterator: 'abc', Limit: 0 }).message).toContain(
      "Value 0 at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect(rejected('GetRecords', { ShardIterator: 'abc', Limit: 10_001 }).message).toContain('Member must have value less than or equal to 10000');
    expect(rejected('GetRecords', { ShardIterator: 'a'.repeat(513) }).message).toContain(
      "at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512",
    );
  });

  describe('CreateStream', () => {
    it('PROVISIONED with a ShardCount of at least 1, or ON_DEMAND without one', () => {
      expect(json('CreateStream', { StreamName: 's', ShardCount: 2 })).toEqual({ streamName: 's', shardCount: 2, mode: 'PROVISIONED', tags: undefined });
      expect(json('CreateStream', { StreamName: 's', StreamModeDetails: { StreamMode: 'ON_DEMAND' }, Tags: { team: 'a' } })).toEqual({
        streamName: 's',
        shardCount: undefined,
        mode: 'ON_DEMAND',
        tags: { team: 'a' },
      });
      expect(rejected('CreateStream', { StreamName: 's', ShardCount: 0 }).message).toContain(
        "Value 0 at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1",
      );
      expect(rejected('CreateStream', { StreamName: 's' }).name).toBe('InvalidArgumentException');
      expect(rejected('CreateStream', { StreamName: 's', ShardCount: 1, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }).name).toBe(
        'InvalidArgumentException',
      );
    });
  });

  it('retention changes: 24 to 8760 hours', () => {
    expect(json('IncreaseStreamRetentionPeriod', { StreamName: 's', RetentionPeriodHours: 48 })).toEqual({ streamName: 's', retentionPeriodHours: 48 });
    expect(rejected('DecreaseStreamRetentionPeriod', { StreamName: 's', RetentionPeriodHours: 23 }).message).toBe(
      'Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.',
    );
    expect(rejected('IncreaseStreamRetentionPeriod', { StreamName: 's', RetentionPeriodHours: 8761 }).message).toBe(
      'Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.',
    );
  });

  it('ListShards: a NextToken stands for the stream', () => {
    expect(json('ListShards', { NextToken: 'tok' }).streamName).toBeUndefined();
    expect(json('ListShards', { StreamName: 's', MaxResults: 5 })).toMatchObject({ streamName: 's', maxResults: 5 });
    expect(rejected('ListShards', { StreamName: 's', NextToken: 'tok' }).name).toBe('InvalidArgumentException');
  });

  it('tags: keys 1..128, values up to 256, at most 50 to remove', () => {
    expect(json('AddTagsToStream', { StreamName: 's', Tags: { a: '', b: 'x' } }).tags).toEqual({ a: '', b: 'x' });
    expect(rejected('AddTagsToStream', { StreamName: 's', Tags: { a: 'v'.repeat(257) } }).message).toContain(
      'Member must have length less than or equal to 256',
    );
    expect(rejected('RemoveTagsFromStream', { StreamName: 's', TagKeys: Array.from({ length: 51 }, (_, i) => `k${i}`) }).message).toContain(
      'Member must have length less than or equal to 50',
    );
    expect(json('ListTagsForStream', { StreamName: 's', Limit: 50 })).toEqual({ streamName: 's', exclusiveStartTagKey: undefined, limit: 50 });
  });

  it.each<[WireFormat]>([['json'], ['cbor']])('%s: every operation reads its minimal request', (format) => {
    const minimal: Record<Operation, Record<string, unknown>> = {
      CreateStream: { StreamName: 's', ShardCount: 1 },
      DeleteStream: { StreamName: 's' },
      ListStreams: {},
      DescribeStream: { StreamName: 's' },
      DescribeStreamSummary: { StreamName: 's' },
      ListShards: { StreamName: 's' },
      PutRecord: { StreamName: 's', Data: Buffer.from('x'), PartitionKey: 'k' },
      PutRecords: { StreamName: 's', Records: [{ Data: Buffer.from('x'), PartitionKey: 'k' }] },
      GetShardIterator: { StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' },
      GetRecords: { ShardIterator: 'it' },
      IncreaseStreamRetentionPeriod: { StreamName: 's', RetentionPeriodHours: 48 },
      DecreaseStreamRetentionPeriod: { StreamName: 's', RetentionPeriodHours: 24 },
      AddTagsToStream: { StreamName: 's', Tags: { a: 'b' } },
      ListTagsForStream: { StreamName: 's' },
      RemoveTagsFromStream: { StreamName: 's', TagKeys: ['a'] },
    };
    for (const op of OPERATIONS) expect(() => readRequest(op, format, decodeBody(format, encodeBody(format, minimal[op])))).not.toThrow();
  });
});
