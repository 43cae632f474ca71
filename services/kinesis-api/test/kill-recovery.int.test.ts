/**
 * `tideway kinesis-api` killed with SIGKILL at many points, chosen by a seeded random from the
 * killed instance's own metrics, under AWS SDK for JavaScript v3 clients on the local stack's Kafka.
 * Two instances serve the same streams with the same iterator key: A, killed and restarted behind
 * the same endpoint, and B, never killed.
 * - Writes: every record whose put was acknowledged is at its SequenceNumber, with its data and
 *   partition key, on its key's shard, and the acknowledged records of a key read in the order they
 *   were acknowledged. A record whose request died with A may be there or not, once or twice.
 * - Reads: a consumer that carries on with its last NextShardIterator on B, then on the restarted
 *   A, reads every shard exactly once, in order: no gap, no duplicate.
 * The seed is printed; KINESIS_KILL_SEED=<seed> replays a run's choices.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { afterEachCleanup } from '../../../test-support/cleanup';
import { deleteTopicsWithPrefix, testKafka } from '../../../test-support/kafka';
import { startKinesisApi, type KinesisApi } from '../../../test-support/kinesis-api-process';
import { readStream, type StreamRecord } from '../../../test-support/kinesis-read';
import { freePort } from '../../../test-support/free-port';
import { metricValue } from '../../../test-support/metrics';
import { runSeed, seededRandom, type SeededRandom } from '../../../test-support/seeded-random';
import { uniqueName } from '../../../test-support/stack';
import { writeTempFile } from '../../../test-support/temp-file';
import { waitFor } from '../../../test-support/wait';
import { shardForRecord, shardId } from '../src/shard-map';

jest.setTimeout(480_000);

const seed = runSeed('KINESIS_KILL_SEED');
const SHARDS = 4;
const prefix = `${uniqueName('kkill')}.`;
const env = {
  KINESIS_API_ITERATOR_SECRET_FILE: writeTempFile('kinesis-iterator-key', randomBytes(32).toString('hex')),
  LOG_LEVEL: 'warn',
};
const defer = afterEachCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let b: KinesisApi;
let bClient: KinesisClient;

beforeAll(async () => {
  console.log(`kinesis-api kill-recovery: seed ${seed} (replay with KINESIS_KILL_SEED=${seed})`);
  b = await startKinesisApi({ prefix, env });
  bClient = b.client();
});

afterAll(async () => {
  bClient?.destroy();
  await b?.proc.stop();
  await deleteTopicsWithPrefix(testKafka(), [prefix]);
});

/** Instance A: killed and restarted on one port, so its clients keep their endpoint as behind a load balancer. */
class Restartable {
  down = false;
  private constructor(
    public api: KinesisApi,
    private readonly port: number,
  ) {}

  static async start(): Promise<Restartable> {
    const port = await freePort();
    const a = new Restartable(await startKinesisApi({ prefix, env, port }), port);
    defer(() => a.api.proc.kill());
    return a;
  }

  async kill(): Promise<void> {
    this.down = true;
    await this.api.proc.kill();
  }

  async restart(): Promise<void> {
    this.api = await startKinesisApi({ prefix, env, port: this.port });
    const api = this.api;
    defer(() => api.proc.kill());
    this.down = false;
  }

  async counter(name: string): Promise<number> {
    return metricValue(await this.api.proc.metrics(), name);
  }
}

/** Polls A's counter until it reaches `min` (its value then), or until `ended()` (undefined). */
async function counterReaches(a: Restartable, name: string, min: number, ended: () => boolean): Promise<number | undefined> {
  const r = await waitFor(
    async () => {
      if (ended()) return { value: undefined };
      const value = await a.counter(name);
      return value >= min ? { value } : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 20, what: `${name} >= ${min}`, describe: () => a.api.proc.logs(20) },
  );
  return r.value;
}

/**
 * A request that died with the process (no answer: a connection reset or refused) or a server
 * error the SDK retries (ServiceUnavailable while Kafka is slow) is sent again; any other answer
 * (a 4xx: an iterator refused, a stream not found) fails the test.
 */
function sendAgain(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

function createStream(name: string): Promise<unknown> {
  defer(() => bClient.send(new DeleteStreamCommand({ StreamName: name })));
  return bClient.send(new CreateStreamCommand({ StreamName: name, ShardCount: SHARDS }));
}

interface Acked {
  key: string;
  n: number;
  data: Buffer;
  sequenceNumber: string;
  shardId: string;
}

/** A record's data: `<key>#<n>|` then random bytes, so every byte must come back as sent. */
function recordData(random: SeededRandom, key: string, n: number): Buffer {
  return Buffer.concat([Buffer.from(`${key}#${n}|`), Buffer.from(Array.from({ length: random.int(200) }, () => random.int(256)))]);
}

/** `count` distinct items of `items`, in random order. */
function distinct<T>(random: SeededRandom, items: readonly T[], count: number): T[] {
  const pool = [...items];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

function idOf(data: Buffer): string {
  return data.toString('latin1').split('|')[0];
}

interface WriteRun {
  stop: boolean;
  failure?: unknown;
  inFlight: number;
  acked: Map<string, Acked>;
  /** Ids of records whose request failed (written or not). */
  unknown: Set<string>;
  sent: Set<string>;
  retries: number;
}

/**
 * One SDK user putting records of its own 25 partition keys, one request at a time: a single
 * PutRecord or a PutRecords of up to 30 distinct keys. A key's next record is sent only after its
 * previous one was acknowledged, and a record whose request failed (or whose entry has an
 * ErrorCode) is sent again, byte for byte, until it is. So for each key, acknowledgements come in
 * the key's counter order, and since an acknowledged record is in Kafka before the next one of
 * its key is sent, the acknowledged records must read back in counter order: the assertion holds
 * by construction whatever the kills do. (Two records of one key in one PutRecords could be
 * acknowledged out of that order if only one were retried.)
 */
async function writer(w: number, client: KinesisClient, stream: string, run: WriteRun): Promise<void> {
  const random = seededRandom(seed * 7 + w);
  const keys = Array.from({ length: 25 }, (_, j) => `w${w}-key-${j}`);
  const next = new Map<string, { n: number; data: Buffer }>();
  const pending = (key: string) => {
    let p = next.get(key);
    if (!p) next.set(key, (p = { n: 1, data: recordData(random, key, 1) }));
    return p;
  };
  const acknowledge = (key: string, sequenceNumber: string, shard: string) => {
    const p = pending(key);
    run.acked.set(`${key}#${p.n}`, { key, n: p.n, data: p.data, sequenceNumber, shardId: shard });
    next.set(key, { n: p.n + 1, data: recordData(random, key, p.n + 1) });
  };
  try {
    while (!run.stop) {
      const chosen = random.chance(0.3) ? [random.pick(keys)] : distinct(random, keys, 2 + random.int(29));
      const records = chosen.map((key) => ({ key, ...pending(key) }));
      for (const r of records) run.sent.add(`${r.key}#${r.n}`);
      run.inFlight += 1;
      try {
        if (records.length === 1) {
          const out = await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: records[0].key, Data: records[0].data }));
          acknowledge(records[0].key, out.SequenceNumber!, out.ShardId!);
        } else {
          const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records.map((r) => ({ PartitionKey: r.key, Data: r.data })) }));
          out.Records!.forEach((e, i) => {
            if (e.SequenceNumber && !e.ErrorCode) acknowledge(records[i].key, e.SequenceNumber, e.ShardId!);
            else run.unknown.add(`${records[i].key}#${records[i].n}`);
          });
        }
      } catch (err) {
        if (!sendAgain(err)) throw err;
        for (const r of records) run.unknown.add(`${r.key}#${r.n}`);
        run.retries += 1;
        await sleep(100 + random.int(200));
      } finally {
        run.inFlight -= 1;
      }
    }
  } catch (err) {
    run.failure ??= err;
    run.stop = true;
  }
}

test(`writes: SIGKILLs while PutRecord(s) are in flight lose no acknowledged record and keep each key's order (seed ${seed})`, async () => {
  const random = seededRandom(seed);
  const stream = uniqueName('writes');
  await createStream(stream);
  const a = await Restartable.start();
  const plan = Array.from({ length: 5 }, () => 50 + random.int(450));
  console.log(`writes: kill A after these records put by each process: ${JSON.stringify(plan)}`);
  const run: WriteRun = { stop: false, inFlight: 0, acked: new Map(), unknown: new Set(), sent: new Set(), retries: 0 };
  // HTTP/2 (the SDK's default for Kinesis) and HTTP/1.1 clients; the SDK's own retries on.
  const clients = Array.from({ length: 4 }, (_, w) => a.api.client({ http1: w % 2 === 1 }));
  defer(() => clients.forEach((c) => c.destroy()));
  const writers = clients.map((c, w) => writer(w, c, stream, run));
  const ended = () => run.stop;

  for (const [i, records] of plan.entries()) {
    const at = await counterReaches(a, 'tideway_kinesis_api_records_put_total', records, ended);
    if (at === undefined) break;
    const inFlight = run.inFlight;
    await a.kill();
    console.log(`writes: SIGKILL #${i + 1} at ${at} records put by this process, ${inFlight} requests in flight, ${run.acked.size} acknowledged so far`);
    await a.restart();
  }
  // The last process serves some more before the writers stop.
  await counterReaches(a, 'tideway_kinesis_api_records_put_total', 100, ended);
  run.stop = true;
  await Promise.all(writers);
  if (run.failure) throw run.failure;

  const read = await readStream(bClient, stream);
  const bySequence = new Map(read.map((r) => [r.sequenceNumber, r]));
  const problems: string[] = [];
  for (const [id, ack] of run.acked) {
    const shard = shardId(shardForRecord(ack.key, SHARDS));
    const r = bySequence.get(ack.sequenceNumber);
    if (!r) problems.push(`${id} acknowledged at ${ack.sequenceNumber} is missing`);
    else if (!r.data.equals(ack.data) || r.partitionKey !== ack.key)
      problems.push(`${id} at ${ack.sequenceNumber} reads as ${idOf(r.data)} (key ${r.partitionKey})`);
    else if (r.shardId !== shard || ack.shardId !== shard) problems.push(`${id} on ${r.shardId}, answered ${ack.shardId}, its key's shard is ${shard}`);
  }
  // Per key, the acknowledged records in read order: 1, 2, 3, … (the order they were acknowledged in).
  const ackedSequences = new Set([...run.acked.values()].map((x) => x.sequenceNumber));
  const order = new Map<string, number>();
  let duplicates = 0;
  let unacknowledged = 0;
  for (const r of read) {
    const id = idOf(r.data);
    if (!run.sent.has(id)) problems.push(`${id} at ${r.sequenceNumber} was never sent`);
    if (!ackedSequences.has(r.sequenceNumber)) {
      if (run.acked.has(id)) duplicates += 1;
      else unacknowledged += 1;
      continue;
    }
    const n = Number(id.split('#')[1]);
    const last = order.get(r.partitionKey) ?? 0;
    if (n !== last + 1) problems.push(`${r.partitionKey}: #${n} read after #${last}`);
    order.set(r.partitionKey, n);
  }
  console.log(
    `writes: seed ${seed}: ${run.acked.size} acknowledged, ${read.length} read, ${run.unknown.size} records in failed requests (${run.retries} retried requests): ` +
      `${duplicates} present again besides their acknowledged copy, ${unacknowledged} present never acknowledged`,
  );
  expect(problems.slice(0, 20)).toEqual([]);
  expect(run.acked.size).toBeGreaterThan(0);
});

interface ReadRun {
  /** Requests B may still serve while A is down; then consumers wait for A. */
  bCalls: number;
  finished: number;
  failure?: unknown;
  retries: number;
}

/**
 * A consumer of one shard as an SDK user writes it: GetShardIterator TRIM_HORIZON, then GetRecords
 * with each answer's NextShardIterator until the shard is read. A request that fails is sent again
 * with the same iterator, to A when it is up, else to B (as a load balancer would send it).
 */
async function consume(shard: number, limit: number, a: Restartable, aClient: KinesisClient, stream: string, run: ReadRun): Promise<StreamRecord[]> {
  const got: StreamRecord[] = [];
  let iterator: string | undefined;
  for (;;) {
    let target: KinesisClient | undefined;
    while (!target) {
      if (!a.down) target = aClient;
      else if (run.bCalls > 0) {
        run.bCalls -= 1;
        target = bClient;
      } else await sleep(20);
    }
    try {
      if (iterator === undefined) {
        const out = await target.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId(shard), ShardIteratorType: 'TRIM_HORIZON' }));
        iterator = out.ShardIterator!;
      } else {
        const out = await target.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        const records = out.Records ?? [];
        for (const r of records)
          got.push({ shardId: shardId(shard), partitionKey: r.PartitionKey!, data: Buffer.from(r.Data!), sequenceNumber: r.SequenceNumber! });
        if (records.length === 0 && out.MillisBehindLatest === 0) return got;
        iterator = out.NextShardIterator!;
      }
    } catch (err) {
      if (!sendAgain(err)) throw err;
      run.retries += 1;
    }
    // A consumer's pause between polls.
    await sleep(10);
  }
}

test(`reads: a consumer carrying its NextShardIterator across SIGKILLs to another instance reads each shard exactly once, in order (seed ${seed})`, async () => {
  const random = seededRandom(seed + 1);
  const stream = uniqueName('reads');
  await createStream(stream);
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
  const acked: string[] = [];
  for (let batch = 0; batch < 8; batch++) {
    const records = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: random.pick(keys), Data: recordData(random, `r${batch}`, i) }));
    const out = await bClient.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    expect(out.FailedRecordCount).toBe(0);
    acked.push(...out.Records!.map((e) => e.SequenceNumber!));
  }
  // What the stream holds, read through B before any kill: the reference every consumer must match.
  const written = await readStream(bClient, stream);
  expect(written.map((r) => r.sequenceNumber).sort()).toEqual([...acked].sort());

  const a = await Restartable.start();
  const plan = Array.from({ length: 4 }, () => ({ records: 50 + random.int(250), bCalls: 1 + random.int(3) }));
  console.log(`reads: kill A after these records read from each process, then so many requests to B: ${JSON.stringify(plan)}`);
  const run: ReadRun = { bCalls: 0, finished: 0, retries: 0 };
  const clients = Array.from({ length: SHARDS }, (_, s) => a.api.client({ http1: s % 2 === 1, maxAttempts: 1 }));
  defer(() => clients.forEach((c) => c.destroy()));
  const consumers = clients.map((c, s) =>
    consume(s, 25 + random.int(76), a, c, stream, run)
      .catch((err: unknown) => {
        run.failure ??= err;
        return [] as StreamRecord[];
      })
      .finally(() => (run.finished += 1)),
  );
  const ended = () => run.finished === SHARDS;

  let reached = 0;
  for (const [i, p] of plan.entries()) {
    const at = await counterReaches(a, 'tideway_kinesis_api_records_read_total', p.records, ended);
    if (at === undefined) {
      console.log(`reads: kill #${i + 1} not reached: the consumers are done`);
      break;
    }
    run.bCalls = p.bCalls;
    await a.kill();
    reached += 1;
    console.log(`reads: SIGKILL #${i + 1} at ${at} records read from this process`);
    await waitFor(() => run.bCalls === 0 || ended(), { timeoutMs: 120_000, intervalMs: 20, what: 'the consumers to go on on B' });
    await a.restart();
  }
  const got = await Promise.all(consumers);
  if (run.failure) throw run.failure;

  const problems: string[] = [];
  for (let s = 0; s < SHARDS; s++) {
    const want = written.filter((r) => r.shardId === shardId(s));
    const have = got[s];
    const firstDiff = want.findIndex(
      (w, i) => have[i]?.sequenceNumber !== w.sequenceNumber || !have[i].data.equals(w.data) || have[i].partitionKey !== w.partitionKey,
    );
    if (firstDiff >= 0 || have.length !== want.length)
      problems.push(
        `shard ${s}: read ${have.length} records, written ${want.length}; first difference at #${firstDiff}: ${have[firstDiff]?.sequenceNumber} instead of ${want[firstDiff]?.sequenceNumber}`,
      );
  }
  console.log(`reads: seed ${seed}: ${written.length} records, ${reached} kills while reading, ${run.retries} requests sent again`);
  expect(problems).toEqual([]);
  expect(reached).toBeGreaterThanOrEqual(3);
});
