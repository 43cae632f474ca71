/**
 * kafka → Firehose with SIGKILLs mid-stream (Kafka + moto Firehose delivering to moto S3, behind a
 * slowing, partly failing proxy, so several PutRecordBatch calls are in flight when the bridge dies).
 */
import { afterEachCleanup } from '../../../test-support/cleanup';
import { testKafka } from '../../../test-support/kafka';
import { firehoseClient, s3Client, uniqueName } from '../../../test-support/stack';
import { createBucket, createDeliveryStream, deleteBucket, deleteDeliveryStream } from '../support/aws';
import { killSeed, objectRecords, reportDelivery, runRouteWithKills } from '../support/kill-recovery';

jest.setTimeout(240_000);

const kafka = testKafka();
const fh = firehoseClient();
const s3c = s3Client();
const defer = afterEachCleanup();
const seed = killSeed();

test(`firehose: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every record arrives`, async () => {
  const name = uniqueName('bk-fh');
  await createBucket(s3c, name);
  defer(() => deleteBucket(s3c, name));
  await createDeliveryStream(fh, name, name, 'out/');
  defer(() => deleteDeliveryStream(fh, name));
  const { run, sent } = await runRouteWithKills({
    label: 'firehose',
    name,
    kafka,
    count: 2500,
    keys: 24,
    destination: `    firehose: { deliveryStream: ${name} }\n`,
    endpointEnv: 'AWS_ENDPOINT_URL_FIREHOSE',
    faults: { recordFailure: 0.1, throttle: 0, serverError: 0, delayMs: 150, applyTo: (target) => target.endsWith('.PutRecordBatch') },
    env: { BRIDGE_RETRY_INITIAL_MS: '300' },
    seed,
    defer,
  });
  const d = reportDelivery('firehose', run, sent, await objectRecords(s3c, name, 'out/'));
  expect(d.missing.slice(0, 20)).toEqual([]);
  expect(d.missing.length).toBe(0);
});
