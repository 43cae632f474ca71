/**
 * Kafka goes away (a private broker, killed) under `tideway kinesis-api`: requests are answered
 * with an error the SDKs retry (ServiceUnavailable / InternalFailure), /readyz reports Kafka, the
 * service stays up, and once the broker is back every record acknowledged before and after is
 * there, read back through the API.
 */
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { PrivateKafka } from '../../../test-support/private-kafka';
import { waitFor } from '../../../test-support/wait';
import { shardId } from '../src/shard-map';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';

jest.setTimeout(480_000);

async function readyz(api: KinesisApi): Promise<{ status: number; body: string }> {
  const res = await fetch(`${api.proc.url}/readyz`);
  return { status: res.status, body: await res.text() };
}

/** The error name a request ends with ('ok' when it succeeds), or 'no answer' when it has none after 90 s (a hang, not a slow answer). */
function outcomeWithin(request: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('no answer'), 90_000)));
  return Promise.race([
    request.then(
      () => 'ok',
      (err: { name: string }) => err.name,
    ),
    hung,
  ]).finally(() => clearTimeout(timer));
}

describe('kinesis-api across a Kafka outage', () => {
  let broker: PrivateKafka;
  let api: KinesisApi;
  let client: KinesisClient;

  beforeAll(async () => {
    broker = await PrivateKafka.start();
    api = await startKinesisApi({ auth: 'none', prefix: '', env: { KAFKA_BROKERS: broker.brokers, KINESIS_API_WRITE_TIMEOUT: '3000' } });
    client = api.client({ maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    await api?.proc.kill();
    await broker?.destroy();
  });

  it('answers retriable errors and reports not ready while Kafka is down, and serves again once it is back', async () => {
    const stream = 'orders';
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const put = (data: string) => client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(data) }));
    await put('before');
    const iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId(0), ShardIteratorType: 'TRIM_HORIZON' })))
      .ShardIterator;
    await client.send(new GetRecordsCommand({ ShardIterator: iterator }));

    await broker.kill('SIGKILL');
    // At once, while the stream's shard count is still known: the write reaches the producer, which
    // would hold it for its delivery timeout (minutes); the answer comes after KINESIS_API_WRITE_TIMEOUT.
    expect(['ServiceUnavailable', 'InternalFailure']).toContain(await outcomeWithin(put('during')));
    const refused = await waitFor(
      async () => {
        try {
          await put('during');
          return undefined;
        } catch (err) {
          return err as { name: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
        }
      },
      { timeoutMs: 180_000, what: 'a request refused while Kafka is down' },
    );
    expect(['ServiceUnavailable', 'InternalFailure']).toContain(refused.name);
    expect(refused.$metadata?.httpStatusCode).toBeGreaterThanOrEqual(500);
    // A read is answered too, within the reader's bounded retries, instead of waiting for the broker.
    expect(['ServiceUnavailable', 'InternalFailure']).toContain(await outcomeWithin(client.send(new GetRecordsCommand({ ShardIterator: iterator }))));
    await waitFor(async () => (await readyz(api)).status === 503, { timeoutMs: 180_000, what: '/readyz to report the outage' });
    expect((await readyz(api)).body).toContain('dependency:kafka');
    expect(api.proc.child.exitCode).toBeNull();

    await broker.restart();
    await waitFor(async () => (await readyz(api)).status === 200, { timeoutMs: 180_000, what: '/readyz to be ready again', describe: () => api.proc.logs(20) });
    await waitFor(() => put('after').then(() => true), { timeoutMs: 180_000, what: 'a put to succeed again' });

    const it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId(0), ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const data = ((await client.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? []).map((r) => Buffer.from(r.Data!).toString());
    // A put that timed out (during the outage, or while the producer reconnected) may still have been
    // written, and its retry written again: at least once, as on Kinesis.
    expect(data[0]).toBe('before');
    expect(data.at(-1)).toBe('after');
    expect(data.filter((d) => d === 'before')).toHaveLength(1);
    expect([...new Set(data.filter((d) => d !== 'during'))]).toEqual(['before', 'after']);
  });
});
