/**
 * kafka → OpenSearch with SIGKILLs mid-stream (the stack's node): document ids come from the Kafka
 * keys, so records delivered again after a crash overwrite themselves — every document exactly once.
 */
import { afterEachCleanup } from '../../../test-support/cleanup';
import { createTopics, deleteTopics, testKafka } from '../../../test-support/kafka';
import { allDocuments, deleteIndices, openSearchUrl } from '../../../test-support/opensearch';
import { uniqueName } from '../../../test-support/stack';
import { startBridge, writeRoutes } from '../support/bridge-run';
import { keyedRecords, killSeed, runWithKills, type KeyedRecord } from '../support/kill-recovery';

jest.setTimeout(300_000);

const kafka = testKafka();
const defer = afterEachCleanup();
const seed = killSeed();

test(`opensearch: 4 SIGKILLs at progress points (seed ${seed}), restarts in the same group: every document exactly once`, async () => {
  const name = uniqueName('bk-os');
  await createTopics(kafka, [{ topic: name, partitions: 3 }]);
  defer(() => deleteTopics(kafka, [name]));
  defer(() => deleteIndices(name));
  // One key per record: its document id.
  const count = 2500;
  const messages = keyedRecords(name, count, count);
  // Small buffers and one request at a time keep several bulk requests outstanding across a kill.
  const routes = writeRoutes(
    `routes:\n  - name: ${name}\n    topics: [${name}]\n    opensearch:\n      endpoint: ${openSearchUrl()}\n      index: ${name}\n` +
      `      indexRotationPeriod: OneHour\n      bufferingHints: { sizeInMBs: 0.02, intervalInSeconds: 0 }\n`,
  );
  const run = await runWithKills(
    {
      label: 'opensearch',
      route: name,
      group: `tideway-bridge-${name}`,
      topic: name,
      kafka,
      messages,
      seed,
      kills: 4,
      backlog: 300,
      start: () => startBridge(routes, { BRIDGE_SESSION_TIMEOUT_MS: '6000', BRIDGE_MAX_IN_FLIGHT_REQUESTS: '2', LOG_LEVEL: 'warn' }),
    },
    (b) => defer(() => b.kill()),
  );
  const docs = await allDocuments<KeyedRecord>(`${name}-*`);
  const ids = docs.map((d) => d._id);
  console.log(
    `opensearch: seed ${seed}, ${run.points.filter((p) => p.reached).length}/4 kills at their point, ${docs.length} documents for ${count} records, ${run.ms} ms`,
  );
  const missing = messages.filter((m) => !ids.includes(m.record.key)).map((m) => m.record.key);
  expect(missing.slice(0, 20)).toEqual([]);
  expect(docs.length).toBe(count);
  for (const d of docs) expect(d._source.key).toBe(d._id);
});
