/**
 * A Kinesis Client Library 3 application, unchanged (test-support/kinesis-clients/kcl: a Scheduler
 * with polling retrieval, leases and checkpoints in DynamoDB — the stack's moto — built from Maven
 * Central on first use), consuming a stream through `tideway kinesis-api` with SigV4: every record
 * put is processed once, on its shard, in order per key; a second run of the same application
 * resumes from its checkpoints (AFTER_SEQUENCE_NUMBER iterators) and processes only what came since.
 */
import { CreateStreamCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { deleteTopicsWithPrefix, testKafka } from '../../../test-support/kafka';
import { metricValue } from '../../../test-support/metrics';
import { uniqueName } from '../../../test-support/stack';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';
import { ensureTool, run } from '../../../test-support/kinesis-clients/client-tools';

// Building the KCL application the first time downloads from Maven Central.
jest.setTimeout(900_000);

const kafka = testKafka();
const KEYS = 30;

interface Processed {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: string;
}

describe('kinesis-api with a Kinesis Client Library 3 application', () => {
  let api: KinesisApi;
  let client: KinesisClient;
  let classPath: string;
  const dynamodb = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? 'http://127.0.0.1:5000';

  beforeAll(async () => {
    [classPath, api] = await Promise.all([ensureTool('ensure-kcl-app.sh'), startKinesisApi()]);
    client = api.client();
  });

  afterAll(async () => {
    client?.destroy();
    if (api) {
      await api.proc.stop();
      await deleteTopicsWithPrefix(kafka, [api.prefix]);
    }
  });

  /** Puts `count` records `<key>#<n>` (n counting on per key in `next`); answers each record's shard, key and data by sequence number. */
  async function put(stream: string, count: number, next: Map<string, number>): Promise<Map<string, { shardId: string; data: string; key: string }>> {
    const acked = new Map<string, { shardId: string; data: string; key: string }>();
    for (let sent = 0; sent < count; sent += 100) {
      const batch = Array.from({ length: Math.min(100, count - sent) }, (_, i) => {
        const key = `k${(sent + i) % KEYS}`;
        const n = next.get(key) ?? 0;
        next.set(key, n + 1);
        return { key, data: `${key}#${n}` };
      });
      const res = await client.send(
        new PutRecordsCommand({ StreamName: stream, Records: batch.map((r) => ({ PartitionKey: r.key, Data: Buffer.from(r.data) })) }),
      );
      expect(res.FailedRecordCount).toBe(0);
      res.Records!.forEach((e, i) => acked.set(e.SequenceNumber!, { shardId: e.ShardId!, ...batch[i] }));
    }
    return acked;
  }

  /** Runs the KCL application until it has processed `expected` records; answers what it processed, in its order. */
  async function consume(stream: string, application: string, expected: number): Promise<Processed[]> {
    const r = await run(
      'java',
      ['-cp', classPath, 'KclConsumer', api.endpoint, dynamodb, stream, application, String(expected), '300'],
      api.clientEnv(),
      420_000,
    );
    if (r.code !== 0) throw new Error(`the KCL application ended with ${r.code}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-8000)}`);
    expect(r.stdout).not.toContain('CHECKPOINT-FAILED');
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('RECORD '))
      .map((l) => {
        const [, shardId, sequenceNumber, partitionKey, data] = l.split(' ');
        return { shardId, sequenceNumber, partitionKey, data };
      });
  }

  /** Every acknowledged record processed exactly once, with its data, on its shard, in order per key. */
  function expectProcessedOnce(processed: Processed[], acked: Map<string, { shardId: string; data: string; key: string }>): void {
    const bySequence = new Map<string, Processed[]>();
    for (const p of processed) bySequence.set(p.sequenceNumber, [...(bySequence.get(p.sequenceNumber) ?? []), p]);
    const missing = [...acked.keys()].filter((s) => !bySequence.has(s));
    const unexpected = [...bySequence.keys()].filter((s) => !acked.has(s));
    const twice = [...bySequence.entries()].filter(([, ps]) => ps.length > 1).map(([s]) => s);
    expect({ missing, unexpected, twice }).toEqual({ missing: [], unexpected: [], twice: [] });
    const wrong = processed.filter((p) => {
      const a = acked.get(p.sequenceNumber)!;
      return a.shardId !== p.shardId || a.key !== p.partitionKey || a.data !== p.data;
    });
    expect(wrong).toEqual([]);
    // One shard is processed by one record processor at a time, so a key's records print in order.
    const lastOfKey = new Map<string, number>();
    const outOfOrder = processed.filter((p) => {
      const n = Number(p.data.split('#')[1]);
      const before = lastOfKey.get(p.partitionKey) ?? -1;
      lastOfKey.set(p.partitionKey, n);
      return n <= before;
    });
    expect(outOfOrder).toEqual([]);
  }

  it('processes every record once, in order per key, and resumes from its checkpoints', async () => {
    const stream = uniqueName('kcl');
    const application = uniqueName('kcl-app');
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
    const next = new Map<string, number>();

    const first = await put(stream, 600, next);
    expect(new Set([...first.values()].map((a) => a.shardId)).size).toBe(4);
    expectProcessedOnce(await consume(stream, application, first.size), first);

    // The same application again: its leases and checkpoints are in DynamoDB, so only the new records come.
    const second = await put(stream, 100, next);
    expectProcessedOnce(await consume(stream, application, second.size), second);

    // What the KCL sent, through the SDK's default CBOR protocol, all signed.
    const metrics = await api.proc.metrics();
    const served = (operation: string) => metricValue(metrics, 'tideway_kinesis_api_requests_total', { operation, format: 'cbor', outcome: 'ok' });
    expect(['ListShards', 'GetShardIterator', 'GetRecords'].map((op) => [op, served(op) > 0])).toEqual([
      ['ListShards', true],
      ['GetShardIterator', true],
      ['GetRecords', true],
    ]);
    expect(metricValue(metrics, 'tideway_kinesis_api_auth_failures_total')).toBe(0);
  });
});
