/**
 * The Python clients, unchanged: the seed's boto3 producer and consumer (examples/kinesis-api/,
 * driven by test-support/kinesis-clients/seed_roundtrip.py) and the aws CLI, both from PyPI in a
 * virtualenv made on first use, against `tideway kinesis-api` with SigV4.
 */
import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
import { join } from 'node:path';
import { deleteTopicsWithPrefix, testKafka } from '../../../test-support/kafka';
import { uniqueName } from '../../../test-support/stack';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';
import { ensureTool, lastJsonLine, REPO_ROOT, run } from '../../../test-support/kinesis-clients/client-tools';

// Making the virtualenv the first time downloads from PyPI.
jest.setTimeout(600_000);

describe('kinesis-api with boto3 and the aws CLI', () => {
  let api: KinesisApi;
  let bin: string;

  beforeAll(async () => {
    [bin, api] = await Promise.all([ensureTool('ensure-aws-python-clients.sh'), startKinesisApi()]);
  });

  afterAll(async () => {
    if (api) {
      await api.proc.stop();
      await deleteTopicsWithPrefix(testKafka(), [api.prefix]);
    }
  });

  it('runs the seed’s boto3 producer and consumer: every record back once, in order per key, on its MD5 shard', async () => {
    const client = api.client();
    try {
      await client.send(new CreateStreamCommand({ StreamName: 'transacciones-realtime', ShardCount: 3 }));
    } finally {
      client.destroy();
    }
    const r = await run(join(bin, 'python'), [join(REPO_ROOT, 'test-support', 'kinesis-clients', 'seed_roundtrip.py'), '1000', '25'], api.clientEnv());
    const result = lastJsonLine(r);
    expect(result).toMatchObject({ put: 1000, read: 1000, shards: 3, problems: [] });
    expect(result.exampleConsumerLines).toBeGreaterThan(0);
  });

  it('serves the aws CLI: create-stream, put-record, get-shard-iterator, get-records, describe-stream-summary, delete-stream', async () => {
    const stream = uniqueName('cli');
    // The CLI's JSON output, read as loosely as a shell script would.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    type Output = Record<string, any>;
    const aws = async (...args: string[]): Promise<Output> => {
      const r = await run(join(bin, 'aws'), ['kinesis', ...args, '--output', 'json'], api.clientEnv());
      if (r.code !== 0) throw new Error(`aws kinesis ${args[0]} exited ${r.code}: ${r.stderr}`);
      return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Output);
    };
    expect(await aws('create-stream', '--stream-name', stream, '--shard-count', '2')).toEqual({});
    const put = await aws('put-record', '--stream-name', stream, '--partition-key', 'order-17', '--data', 'hello from the cli');
    expect(put.ShardId).toMatch(/^shardId-00000000000[01]$/);
    expect(put.SequenceNumber).toMatch(/^\d{56}$/);
    const it = await aws('get-shard-iterator', '--stream-name', stream, '--shard-id', put.ShardId, '--shard-iterator-type', 'TRIM_HORIZON');
    const got = await aws('get-records', '--shard-iterator', it.ShardIterator);
    expect(got.Records).toHaveLength(1);
    expect(got.Records[0]).toMatchObject({
      SequenceNumber: put.SequenceNumber,
      PartitionKey: 'order-17',
      Data: Buffer.from('hello from the cli').toString('base64'),
    });
    expect(got.MillisBehindLatest).toBe(0);
    expect(typeof got.NextShardIterator).toBe('string');
    const summary = await aws('describe-stream-summary', '--stream-name', stream);
    expect(summary.StreamDescriptionSummary).toMatchObject({ StreamName: stream, StreamStatus: 'ACTIVE', OpenShardCount: 2, RetentionPeriodHours: 24 });
    expect(await aws('delete-stream', '--stream-name', stream)).toEqual({});
    const gone = await run(join(bin, 'aws'), ['kinesis', 'describe-stream-summary', '--stream-name', stream], api.clientEnv());
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('ResourceNotFoundException');
  });
});
