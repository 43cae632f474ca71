/**
 * The AWS SDK for Java v2, unchanged (test-support/kinesis-clients/java, CBOR by default, built
 * from Maven Central on first use), against `tideway kinesis-api` with SigV4: put and read back,
 * an expired iterator, and a wrong secret refused with nothing written.
 */
import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
import { deleteTopicsWithPrefix, testKafka } from '../../../test-support/kafka';
import { metricValue } from '../../../test-support/metrics';
import { uniqueName } from '../../../test-support/stack';
import { waitFor } from '../../../test-support/wait';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';
import { ensureTool, lastJsonLine, run } from '../../../test-support/kinesis-clients/client-tools';

// Building the Java client the first time downloads from Maven Central.
jest.setTimeout(600_000);

const kafka = testKafka();

describe('kinesis-api with the AWS SDK for Java v2 (CBOR)', () => {
  let api: KinesisApi;
  let classPath: string;
  const java = (args: string[], env: NodeJS.ProcessEnv = {}) => run('java', ['-cp', classPath, 'KinesisRoundTrip', ...args], { ...api.clientEnv(), ...env });

  async function createStream(name: string, shards: number): Promise<void> {
    const client = api.client();
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    } finally {
      client.destroy();
    }
  }

  beforeAll(async () => {
    [classPath, api] = await Promise.all([ensureTool('ensure-java-kinesis-client.sh'), startKinesisApi({ env: { KINESIS_API_ITERATOR_TTL: '2s' } })]);
  });

  afterAll(async () => {
    if (api) {
      await api.proc.stop();
      await deleteTopicsWithPrefix(kafka, [api.prefix]);
    }
  });

  it('puts 1,000 records and reads every one back, in order per key, speaking CBOR', async () => {
    const stream = uniqueName('java');
    await createStream(stream, 3);
    const result = lastJsonLine(await java(['roundtrip', stream, '1000']));
    expect(result).toMatchObject({ put: 1000, read: 1000, distinct: 1000, failedEntries: 0, orderProblems: [], problems: [] });
    const metrics = await api.proc.metrics();
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation: 'PutRecord', format: 'cbor', outcome: 'ok' })).toBe(500);
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation: 'PutRecords', format: 'cbor', outcome: 'ok' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation: 'GetRecords', format: 'cbor', outcome: 'ok' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'tideway_kinesis_api_requests_total', { format: 'json', operation: 'PutRecord' })).toBe(0);
  });

  it('gets ExpiredIteratorException for an iterator older than its lifetime', async () => {
    const stream = uniqueName('java-expiry');
    await createStream(stream, 1);
    expect(lastJsonLine(await java(['expired-iterator', stream, '3000']))).toEqual({ error: 'ExpiredIteratorException' });
  });

  it('is refused with a wrong secret, and nothing is written', async () => {
    const stream = uniqueName('java-auth');
    await createStream(stream, 1);
    expect(lastJsonLine(await java(['put-one', stream], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }))).toEqual({
      error: 'InvalidSignatureException',
      status: 400,
    });
    // Retried while the broker answers a transient error for the topic just created.
    const ends = await waitFor(async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.endOffsets(api.prefix + stream)).map((o) => o.offset);
      } finally {
        await admin.disconnect();
      }
    });
    expect(ends).toEqual(['0']);
    // The right secret is let in.
    expect(lastJsonLine(await java(['put-one', stream]))).toEqual({ sequenceNumber: expect.stringMatching(/^\d{56}$/) });
  });
});
