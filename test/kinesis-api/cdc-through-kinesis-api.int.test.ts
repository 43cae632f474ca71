/**
 * `tideway cdc` output read through `tideway kinesis-api`: a PostgreSQL table captured by a real cdc
 * process into its change topic, served as a stream of the same name (no prefix, no
 * authentication). The seed's boto3 consumer loop (examples/kinesis-api/consumer.py, unchanged,
 * driven by test-support/kinesis-clients/seed_consumer_loop.py) reads the first shard from LATEST
 * while rows are written, and prints exactly the change events cdc wrote to partition 0, in order;
 * a full read of every shard with the JavaScript SDK equals the topic.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type _Record } from '@aws-sdk/client-kinesis';
import type { IncomingMessage } from '@tideway/runtime';
import { Client } from 'pg';
import { dropCdcArtifacts } from '../../test-support/cdc-artifacts';
import { testKafka } from '../../test-support/kafka';
import { json, readTopicEventually } from '../../test-support/kafka-read';
import { stackEnv, uniqueName } from '../../test-support/stack';
import { TidewayProcess } from '../../test-support/tideway-process';
import { waitFor } from '../../test-support/wait';
import { startKinesisApi, type KinesisApi } from '../../test-support/kinesis-api-process';
import { ensureTool, lastJsonLine, REPO_ROOT } from '../../test-support/kinesis-clients/client-tools';

// Making the virtualenv the first time downloads from PyPI.
jest.setTimeout(600_000);

const INSERTS = 30;
const UPDATES = 12;
const DELETES = 6;
const EVENTS = INSERTS + UPDATES + DELETES;

interface ChangeEvent {
  op: string;
  before: unknown;
  after: unknown;
  source: Record<string, unknown>;
  ts_ms: number;
}

/** Every record of every shard from TRIM_HORIZON, by shard index, until a read reaches the end. */
async function readAllShards(api: KinesisApi, stream: string): Promise<_Record[][]> {
  const client = api.client({ http1: true });
  try {
    const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    const out: _Record[][] = [];
    for (const shard of shards) {
      const records: _Record[] = [];
      let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator;
      while (it) {
        const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
        records.push(...(res.Records ?? []));
        if (res.MillisBehindLatest === 0) break;
        it = res.NextShardIterator;
      }
      out.push(records);
    }
    return out;
  } finally {
    client.destroy();
  }
}

describe('cdc output through the Kinesis API', () => {
  const table = uniqueName('kapi_cdc', '_');
  const topic = `${table}.changes`;
  const slot = table;
  let db: Client | undefined;
  let cdc: TidewayProcess | undefined;
  let api: KinesisApi | undefined;

  afterAll(async () => {
    await api?.proc.stop();
    await cdc?.stop();
    await db?.end().catch(() => undefined);
    await dropCdcArtifacts({ slot, publication: slot }, [`public.${table}`], [topic, `${topic}.dlq`]);
  });

  it('the seed’s consumer loop prints the change events of partition 0 in order; every shard reads back as the topic', async () => {
    const bin = await ensureTool('ensure-aws-python-clients.sh');
    db = new Client({ connectionString: stackEnv().CDC_DATABASE_URL });
    db.on('error', () => undefined);
    await db.connect();
    await db.query(`CREATE TABLE public.${table} (id int PRIMARY KEY, amount int NOT NULL, note text)`);

    cdc = await TidewayProcess.start('cdc', {
      CDC_TABLES: `public.${table}`,
      CDC_SLOT: slot,
      CDC_PUBLICATION: slot,
      CDC_TOPIC_PARTITIONS: '3',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    });
    await cdc.waitReady(120_000);
    const admin = testKafka().admin();
    await admin.connect();
    await waitFor(async () => (await admin.listTopics()).includes(topic), { timeoutMs: 120_000, what: `topic ${topic} created by cdc` });
    await admin.disconnect();

    api = await startKinesisApi({ auth: 'none', prefix: '' });
    const driver = spawn(join(bin, 'python'), [join(REPO_ROOT, 'test-support', 'kinesis-clients', 'seed_consumer_loop.py'), topic], {
      env: { ...process.env, ...api.clientEnv() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    driver.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    driver.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => driver.on('close', resolve));
    try {
      await waitFor(() => stdout.includes('\n') || driver.exitCode !== null, { timeoutMs: 180_000, what: 'the consumer loop polling' });
      expect({ first: stdout.split('\n')[0], stderr: driver.exitCode === null ? '' : stderr }).toEqual({ first: 'polling', stderr: '' });

      // Inserts, updates and deletes, in a few transactions.
      await db.query(`INSERT INTO public.${table} (id, amount, note) SELECT i, i * 100, 'row ' || i FROM generate_series(1, ${INSERTS}) AS i`);
      for (let i = 1; i <= UPDATES; i++) await db.query(`UPDATE public.${table} SET amount = amount + 1, note = 'updated' WHERE id = $1`, [i * 2]);
      await db.query(`DELETE FROM public.${table} WHERE id > $1`, [INSERTS - DELETES]);

      // Each delete is followed by its tombstone, which the API passes over.
      const all = await readTopicEventually(testKafka(), topic, (r) => r.length >= EVENTS + DELETES, 180_000);
      expect(all).toHaveLength(EVENTS + DELETES);
      expect(all.filter((m) => m.value === null)).toHaveLength(DELETES);
      const records = all.filter((m) => m.value !== null);
      const events = records.map((m) => json<ChangeEvent>(m));
      for (const e of events) {
        expect(e).toEqual(
          expect.objectContaining({ op: expect.stringMatching(/^[cud]$/), source: expect.objectContaining({ table }), ts_ms: expect.any(Number) }),
        );
        expect(e.after === null).toBe(e.op === 'd');
      }
      expect(events.filter((e) => e.op === 'c')).toHaveLength(INSERTS);
      expect(events.filter((e) => e.op === 'u')).toHaveLength(UPDATES);
      expect(events.filter((e) => e.op === 'd')).toHaveLength(DELETES);

      const partition0 = records.filter((m) => m.partition === 0).map((m) => m.value!.toString('utf8'));
      expect(partition0.length).toBeGreaterThan(0);
      driver.stdin.end(`${JSON.stringify(partition0)}\n`);
      const code = await exited;
      const result = lastJsonLine({ code: code ?? -1, stdout, stderr });
      expect(result).toEqual({ expected: partition0.length, printed: partition0.length, problems: [] });
      expect(code).toBe(0);

      // Every shard through the API is its partition: same records, same keys, same order.
      const byShard = await readAllShards(api, topic);
      const view = (r: { key: string; data: string }) => `${r.key} ${r.data}`;
      expect(byShard.map((rs) => rs.map((r) => view({ key: r.PartitionKey ?? '', data: Buffer.from(r.Data!).toString('utf8') })))).toEqual(
        [0, 1, 2].map((p) =>
          records.filter((m: IncomingMessage) => m.partition === p).map((m) => view({ key: m.key?.toString('utf8') ?? '', data: m.value!.toString('utf8') })),
        ),
      );
    } finally {
      if (driver.exitCode === null) driver.kill();
    }
  });
});
