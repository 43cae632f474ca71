/**
 * kafka → Kinesis with SIGKILLs mid-stream (Kafka + kinesis-mock behind a slowing, partly failing
 * proxy, so several PutRecords calls and retried records are in flight when the bridge dies).
 */
import { afterEachCleanup } from '../../../test-support/cleanup';
import { testKafka } from '../../../test-support/kafka';
import { readStream } from '../../../test-support/kinesis-read';
import { kinesisClient, uniqueName } from '../../../test-support/stack';
import { createStream, deleteStream } from '../support/aws';
import { firstOccurrencesInOrder } from '../support/bridge-run';
import { killSeed, reportDelivery, runRouteWithKills, type KeyedRecord } from '../support/kill-recovery';

jest.setTimeout(240_000);

const kafka = testKafka();
const client = kinesisClient();
const defer = afterEachCleanup();
const seed = killSeed();

test(`kinesis: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives, per-key first occurrences in order`, async () => {
  const name = uniqueName('bk-kin');
  // A fresh stream per run: kinesis-mock slows down as a stream fills.
  await createStream(client, name, 2);
  defer(() => deleteStream(client, name));
  const { run, sent } = await runRouteWithKills({
    label: 'kinesis',
    name,
    kafka,
    count: 2000,
    keys: 120,
    destination: `    kinesis: { stream: ${name} }\n`,
    endpointEnv: 'AWS_ENDPOINT_URL_KINESIS',
    faults: { recordFailure: 0.1, throttle: 0, serverError: 0, delayMs: 100, applyTo: (target) => target.endsWith('.PutRecords') },
    env: { BRIDGE_RETRY_INITIAL_MS: '300' },
    seed,
    defer,
  });
  const got = (await readStream(client, name)).map((r) => JSON.parse(r.data.toString('utf8')) as KeyedRecord);
  const d = reportDelivery('kinesis', run, sent, got);
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
  const byKey = new Map<string, number[]>();
  for (const g of got) byKey.set(g.key, [...(byKey.get(g.key) ?? []), g.seq]);
  expect(firstOccurrencesInOrder(byKey)).toEqual([]);
});
