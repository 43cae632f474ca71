/**
 * kafka → S3 with SIGKILLs mid-stream (Kafka + moto S3 behind a slowing proxy, so several object
 * writes are in flight, and finish out of order, when the bridge dies).
 */
import { afterEachCleanup } from '../../../test-support/cleanup';
import { testKafka } from '../../../test-support/kafka';
import { s3Client, uniqueName } from '../../../test-support/stack';
import { createBucket, deleteBucket } from '../support/aws';
import { killSeed, objectRecords, reportDelivery, runRouteWithKills } from '../support/kill-recovery';

jest.setTimeout(240_000);

const kafka = testKafka();
const s3c = s3Client();
const defer = afterEachCleanup();
const seed = killSeed();

test(`s3: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives`, async () => {
  const name = uniqueName('bk-s3');
  await createBucket(s3c, name);
  defer(() => deleteBucket(s3c, name));
  const { run, sent } = await runRouteWithKills({
    label: 's3',
    name,
    kafka,
    count: 2500,
    keys: 24,
    // Small buffers, flushed by size or after a second: many objects, several in flight.
    destination: `    s3:\n      bucket: ${name}\n      prefix: "raw/"\n      bufferingHints: { sizeInMBs: 0.01, intervalInSeconds: 1 }\n`,
    endpointEnv: 'AWS_ENDPOINT_URL_S3',
    // Object writes take a while: flushes of later buffers overtake earlier ones.
    faults: { recordFailure: 0, throttle: 0, serverError: 0, delayMs: 250, applyTo: (_target, method) => method === 'PUT' || method === 'POST' },
    seed,
    defer,
  });
  const d = reportDelivery('s3', run, sent, await objectRecords(s3c, name, 'raw/'));
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
});
