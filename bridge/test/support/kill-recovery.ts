/**
 * Crash-recovery runs for bridge routes: keyed records are produced while `tideway bridge` runs,
 * the bridge is killed with SIGKILL at points chosen from its own progress (/metrics) and
 * restarted in the same group, and at the end every record's id must be at the destination.
 * Duplicates are expected (at-least-once) and reported, never failed.
 */
import { gunzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { KafkaClient, OutgoingMessage } from '@tideway/runtime';
import type { Defer } from '../../../test-support/cleanup';
import { createTopics, deleteTopics, groupCaughtUp, produce } from '../../../test-support/kafka';
import { metricValue } from '../../../test-support/metrics';
import { runSeed, seededRandom, type SeededRandom } from '../../../test-support/seeded-random';
import type { TidewayProcess } from '../../../test-support/tideway-process';
import { waitFor } from '../../../test-support/wait';
import { getObject, listKeys } from './aws';
import { startBridge, writeRoutes } from './bridge-run';
import { FaultProxy, type FaultRates } from './fault-proxy';

/** What each record's value carries. */
export interface KeyedRecord {
  id: string;
  key: string;
  /** Position of the record within its key (0, 1, 2, … in production order). */
  seq: number;
}

/** `count` records over `keys` keys, each value a JSON KeyedRecord (plus padding). */
export function keyedRecords(topic: string, count: number, keys: number, pad = 80): Array<OutgoingMessage & { record: KeyedRecord }> {
  const perKey = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const key = `key-${i % keys}`;
    const seq = perKey.get(key) ?? 0;
    perKey.set(key, seq + 1);
    const record = { id: `r${i}`, key, seq };
    return { topic, key, value: JSON.stringify({ ...record, pad: 'x'.repeat(pad) }), record };
  });
}

/**
 * Where to kill one bridge process, judged from that process's own metrics:
 * - `new-batch-in-flight`: a fetch arrived while records of earlier fetches were still pending and
 *   some were already delivered (so commits are moving); kill `settleMs` later, after commits ran;
 * - `delivered`: the process delivered at least `records`;
 * - `pending`: at least `records` read and not yet finished, after the first deliveries.
 */
export type KillPoint = { kind: 'new-batch-in-flight'; settleMs: number } | { kind: 'delivered'; records: number } | { kind: 'pending'; records: number };

/** `count` kill points, at least half of them right after a fetch with earlier records in flight. */
export function planKills(random: SeededRandom, count: number): KillPoint[] {
  const points: KillPoint[] = [];
  for (let i = 0; i < count; i++) {
    const roll = i % 2 === 0 ? 0 : 1 + random.int(2);
    if (roll === 0) points.push({ kind: 'new-batch-in-flight', settleMs: random.int(800) });
    else if (roll === 1) points.push({ kind: 'delivered', records: 20 + random.int(200) });
    else points.push({ kind: 'pending', records: 5 + random.int(60) });
  }
  // Shuffle so the first process is not always killed the same way.
  for (let i = points.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [points[i], points[j]] = [points[j], points[i]];
  }
  return points;
}

export interface Progress {
  read: number;
  delivered: number;
  pending: number;
}

async function progress(bridge: TidewayProcess, route: string): Promise<Progress | undefined> {
  try {
    const text = await bridge.metrics();
    return {
      read: metricValue(text, 'tideway_bridge_records_read_total', { route }),
      delivered: metricValue(text, 'tideway_bridge_records_delivered_total', { route }),
      pending: metricValue(text, 'tideway_bridge_records_pending', { route }),
    };
  } catch {
    return undefined; // not listening yet
  }
}

function alive(bridge: TidewayProcess): boolean {
  return bridge.child.exitCode === null && bridge.child.signalCode === null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the process's metrics until the kill point is reached (reached: true), or until there is
 * nothing left to do — `exhausted()` and nothing pending for a second — or `timeoutMs` passes.
 */
export async function reachKillPoint(
  bridge: TidewayProcess,
  route: string,
  point: KillPoint,
  exhausted: () => boolean,
  timeoutMs: number,
  onConsuming: () => void = () => undefined,
): Promise<{ reached: boolean; at?: Progress }> {
  const deadline = Date.now() + timeoutMs;
  let prev: Progress | undefined;
  let idleSince: number | undefined;
  while (Date.now() < deadline) {
    if (!alive(bridge)) throw new Error(`bridge exited (${bridge.child.exitCode ?? bridge.child.signalCode}):\n${bridge.logs()}`);
    const now = await progress(bridge, route);
    if (now) {
      if (now.read > 0) onConsuming();
      if (point.kind === 'delivered' && now.delivered >= point.records) return { reached: true, at: now };
      if (point.kind === 'pending' && now.delivered > 0 && now.pending >= point.records) return { reached: true, at: now };
      if (point.kind === 'new-batch-in-flight' && prev && now.read > prev.read && prev.pending > 0 && prev.delivered > 0) {
        await sleep(point.settleMs);
        return { reached: true, at: (await progress(bridge, route)) ?? now };
      }
      if (exhausted() && now.read > 0 && now.pending === 0) {
        idleSince ??= Date.now();
        if (Date.now() - idleSince > 1000) return { reached: false, at: now };
      } else idleSince = undefined;
      prev = now;
    }
    await sleep(10);
  }
  return { reached: false, at: prev };
}

/**
 * Produces records in small chunks, only while `gate()` is true (a bridge is consuming) and only
 * up to `allowance`, so that every bridge process between two kills sees records arrive.
 */
export class PacedProducer {
  produced = 0;
  allowance = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    kafka: KafkaClient,
    messages: OutgoingMessage[],
    private readonly gate: () => boolean,
    chunk = 10,
    everyMs = 50,
  ) {
    this.done = (async () => {
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      try {
        while (this.produced < messages.length && !this.stopped) {
          if (this.gate() && this.produced < this.allowance) {
            const next = messages.slice(this.produced, Math.min(this.produced + chunk, this.allowance));
            await producer.send(next);
            this.produced += next.length;
          }
          await sleep(everyMs);
        }
      } finally {
        await producer.disconnect();
      }
    })();
  }

  stop(): void {
    this.stopped = true;
  }
}

export interface KillRunOptions {
  /** Log prefix and route under test. */
  label: string;
  route: string;
  group: string;
  topic: string;
  kafka: KafkaClient;
  messages: OutgoingMessage[];
  /** Starts a bridge process for the route (same group each time). */
  start: () => Promise<TidewayProcess>;
  seed: number;
  kills: number;
  /** Records produced before the first start (a backlog to begin with). */
  backlog?: number;
}

export interface KillRunResult {
  seed: number;
  points: Array<KillPoint & { reached: boolean; at?: Progress }>;
  /** The last process, still running and caught up. */
  bridge: TidewayProcess;
  ms: number;
}

/** Produces while killing and restarting the bridge at the planned points, then waits until the group committed everything. */
export async function runWithKills(o: KillRunOptions, onStart: (bridge: TidewayProcess) => void): Promise<KillRunResult> {
  const t0 = Date.now();
  const random = seededRandom(o.seed);
  const plan = planKills(random, o.kills);
  console.log(`${o.label}: seed ${o.seed}, kill plan ${JSON.stringify(plan)}`);
  // Production runs only while a process consumes, so each one sees fetches arrive while it delivers.
  let consuming = false;
  const backlog = o.backlog ?? 0;
  if (backlog > 0) await produce(o.kafka, o.messages.slice(0, backlog));
  const producer = new PacedProducer(o.kafka, o.messages.slice(backlog), () => consuming);
  const points: KillRunResult['points'] = [];
  const rest = o.messages.length - backlog;
  const share = Math.ceil(rest / (plan.length + 1));
  try {
    for (const point of plan) {
      producer.allowance = Math.min(rest, producer.allowance + share);
      const bridge = await o.start();
      onStart(bridge);
      // A restart waits for the killed member's session to expire before it gets partitions.
      const r = await reachKillPoint(
        bridge,
        o.route,
        point,
        () => producer.produced >= producer.allowance,
        60_000,
        () => (consuming = true),
      );
      consuming = false;
      await bridge.kill();
      points.push({ ...point, ...r });
      console.log(
        `${o.label}: SIGKILL #${points.length} ${point.kind}${r.reached ? '' : ' (not reached: nothing left in flight; killed anyway)'} at ${JSON.stringify(r.at)}, produced ${producer.produced}`,
      );
    }
    producer.allowance = rest;
    const bridge = await o.start();
    onStart(bridge);
    consuming = true;
    await producer.done;
    await waitFor(
      async () => {
        if (!alive(bridge)) throw new Error(`bridge exited:\n${bridge.logs()}`);
        return groupCaughtUp(o.kafka, o.group, o.topic);
      },
      { what: `${o.label} caught up`, timeoutMs: 150_000, intervalMs: 500 },
    );
    return { seed: o.seed, points, bridge, ms: Date.now() - t0 };
  } finally {
    producer.stop();
    await producer.done.catch(() => undefined);
  }
}

export interface Delivery {
  /** Ids produced and absent at the destination. */
  missing: string[];
  /** Copies beyond the first, over all ids. */
  duplicates: number;
  /** Distinct ids present. */
  distinct: number;
  total: number;
}

/** Compares what was produced with what the destination holds (one entry per copy). */
export function compareDelivery(sent: readonly KeyedRecord[], got: readonly KeyedRecord[]): Delivery {
  const copies = new Map<string, number>();
  for (const g of got) copies.set(g.id, (copies.get(g.id) ?? 0) + 1);
  const missing = sent.filter((s) => !copies.has(s.id)).map((s) => s.id);
  let duplicates = 0;
  for (const n of copies.values()) duplicates += n - 1;
  return { missing, duplicates, distinct: copies.size, total: got.length };
}

/** The seed of a run: KILL_TEST_SEED when set (to replay a failure), else a fresh one. */
export function killSeed(): number {
  return runSeed('KILL_TEST_SEED');
}

export interface KillRecoveryRoute {
  /** The destination, e.g. 'kinesis' (names the run in logs). */
  label: string;
  /** A unique name: the topic and the route are called so. */
  name: string;
  kafka: KafkaClient;
  /** `count` keyed records over `keys` keys. */
  count: number;
  keys: number;
  /** The route's destination YAML, indented under the route (e.g. `    kinesis: { stream: x }\n`). */
  destination: string;
  /** The emulator's endpoint variable the bridge reaches through a fault proxy, and the proxy's faults. */
  endpointEnv: 'AWS_ENDPOINT_URL_KINESIS' | 'AWS_ENDPOINT_URL_FIREHOSE' | 'AWS_ENDPOINT_URL_S3';
  faults: FaultRates;
  env?: NodeJS.ProcessEnv;
  seed: number;
  defer: Defer;
}

/**
 * One kill-recovery run of a route whose destination exists: a 3-partition topic, a fault proxy in
 * front of the destination, 4 SIGKILLs at progress points with a backlog of 300 records.
 */
export async function runRouteWithKills(r: KillRecoveryRoute): Promise<{ run: KillRunResult; sent: KeyedRecord[] }> {
  const topic = r.name;
  await createTopics(r.kafka, [{ topic, partitions: 3 }]);
  r.defer(() => deleteTopics(r.kafka, [topic]));
  const proxy = await new FaultProxy(process.env[r.endpointEnv]!, r.faults).start();
  r.defer(() => proxy.stop());
  const messages = keyedRecords(topic, r.count, r.keys);
  const routes = writeRoutes(`routes:\n  - name: ${r.name}\n    topics: [${topic}]\n${r.destination}`);
  const run = await runWithKills(
    {
      label: r.label,
      route: r.name,
      group: `tideway-bridge-${r.name}`,
      topic,
      kafka: r.kafka,
      messages,
      seed: r.seed,
      kills: 4,
      backlog: 300,
      start: () => startBridge(routes, { [r.endpointEnv]: proxy.url, BRIDGE_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'warn', ...r.env }),
    },
    (b) => r.defer(() => b.kill()),
  );
  return { run, sent: messages.map((m) => m.record) };
}

/** Compares and logs what arrived (duplicates are reported, never failed). */
export function reportDelivery(label: string, run: KillRunResult, sent: readonly KeyedRecord[], got: readonly KeyedRecord[]): Delivery {
  const d = compareDelivery(sent, got);
  console.log(
    `${label}: seed ${run.seed}, ${run.points.length} kills (${run.points.filter((p) => p.reached).length} at their point), ${d.distinct}/${sent.length} ids, ${d.duplicates} duplicates, ${run.ms} ms`,
  );
  return d;
}

/** The JSON lines of every object under `prefix` (gzipped objects are unpacked). */
export async function objectRecords(client: S3Client, bucket: string, prefix: string): Promise<KeyedRecord[]> {
  const got: KeyedRecord[] = [];
  for (const key of await listKeys(client, bucket, prefix)) {
    const body = await getObject(client, bucket, key);
    const text = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).toString('utf8') : body.toString('utf8');
    for (const line of text.split('\n')) if (line !== '') got.push(JSON.parse(line) as KeyedRecord);
  }
  return got;
}
