/**
 * kafka → OpenSearch on the real stack (Kafka + the stack's OpenSearch node; a private node for the
 * outage): change events of seed-style policy and claim tables indexed into daily indices.
 */
import { resolve } from 'node:path';
import { startBridge, writeRoutes } from './support/bridge-run';
import { afterEachCleanup } from '../../test-support/cleanup';
import { createTopics, deleteTopics, produce, testKafka, waitCaughtUp } from '../../test-support/kafka';
import { readTopicUntil } from '../../test-support/kafka-read';
import { metricValue } from '../../test-support/metrics';
import { allDocuments, countDocuments, deleteIndices, openSearchUrl, osRequest } from '../../test-support/opensearch';
import { PrivateOpenSearch } from '../../test-support/private-opensearch';
import { uniqueName } from '../../test-support/stack';
import type { TidewayProcess } from '../../test-support/tideway-process';
import { waitFor } from '../../test-support/wait';

jest.setTimeout(300_000);

const kafka = testKafka();
const defer = afterEachCleanup();
let bridge: TidewayProcess | undefined;
afterEach(() => bridge?.kill());

const TRANSFORM = resolve(__dirname, '..', '..', 'examples', 'transforms', 'cdc-to-document.js');
const DAY1 = Date.UTC(2025, 2, 10, 9, 30);
const DAY2 = Date.UTC(2025, 2, 11, 14, 0);

let lsn = 1000;
/** A change event as `tideway cdc` writes it: Debezium's envelope, keyed by the primary key's JSON. */
function change(
  topic: string,
  table: string,
  keyColumn: string,
  op: 'c' | 'u' | 'd',
  before: object | null,
  after: Record<string, unknown> | null,
  timestamp: number,
) {
  const row = (after ?? before) as Record<string, unknown>;
  const source = { connector: 'tideway-cdc', db: 'app', schema: 'public', table, lsn: lsn++, txId: lsn, ts_ms: timestamp, snapshot: 'false' };
  return { topic, key: JSON.stringify({ [keyColumn]: row[keyColumn] }), value: JSON.stringify({ before, after, op, ts_ms: timestamp + 5, source }), timestamp };
}

function route(name: string, topic: string, index: string, endpoint = openSearchUrl(), extra = '') {
  return (
    `  - name: ${name}\n    topics: [${topic}]\n    transform: ${TRANSFORM}\n` +
    `    opensearch:\n      endpoint: ${endpoint}\n      index: ${index}\n      indexRotationPeriod: OneDay\n` +
    `      bufferingHints: { sizeInMBs: 1, intervalInSeconds: 1 }\n${extra}`
  );
}

async function topics(...names: string[]) {
  await createTopics(
    kafka,
    names.map((topic) => ({ topic, partitions: 3 })),
  );
  defer(() => deleteTopics(kafka, names));
}

test('policy and claim changes land in daily indices, one document per row with its latest state, searchable', async () => {
  const p = uniqueName('os-seed');
  const [policies, claims] = [`${p}.public.policies`, `${p}.public.claims`];
  await topics(policies, claims, `${claims}.dlq`);
  defer(() => deleteIndices(p));
  const msgs = [];
  for (let i = 0; i < 40; i++) {
    const policy = { policy_id: `POL-${i}`, holder: `holder ${i}`, product: i % 2 ? 'auto' : 'home', premium: 500 + i };
    msgs.push(change(policies, 'policies', 'policy_id', 'c', null, policy, DAY1 + i * 1000));
  }
  for (let i = 0; i < 60; i++) {
    const claim = { claim_id: `CLM-${i}`, policy_id: `POL-${i % 40}`, amount: 100 * i, status: 'open' };
    const day = i < 30 ? DAY1 : DAY2;
    msgs.push(change(claims, 'claims', 'claim_id', 'c', null, claim, day + i));
    // Every third claim is settled later the same day: the document must hold the last state.
    if (i % 3 === 0) msgs.push(change(claims, 'claims', 'claim_id', 'u', claim, { ...claim, status: 'settled', amount: 100 * i + 1 }, day + 60_000 + i));
  }
  // A deleted row: the transform drops the delete, the view keeps its last state.
  msgs.push(change(claims, 'claims', 'claim_id', 'd', { claim_id: 'CLM-1' }, null, DAY1 + 90_000));
  await produce(kafka, msgs);

  bridge = await startBridge(writeRoutes(`routes:\n${route(`${p}-pol`, policies, `${p}-policies`)}${route(`${p}-clm`, claims, `${p}-claims`)}`));
  await waitCaughtUp(kafka, `tideway-bridge-${p}-pol`, policies);
  await waitCaughtUp(kafka, `tideway-bridge-${p}-clm`, claims);

  await osRequest('POST', `/${p}-*/_refresh`);
  const indices = await osRequest<Array<{ index: string; 'docs.count': string }>>('GET', `/_cat/indices/${p}-*?format=json`);
  expect(Object.fromEntries(indices.map((i) => [i.index, Number(i['docs.count'])]))).toEqual({
    [`${p}-policies-2025-03-10`]: 40,
    [`${p}-claims-2025-03-10`]: 30,
    [`${p}-claims-2025-03-11`]: 30,
  });
  const docs = await allDocuments<{ claim_id: string; status: string; amount: number; _op: string }>(`${p}-claims-*`);
  expect(docs).toHaveLength(60);
  for (const d of docs) {
    const i = Number(d._source.claim_id.slice(4));
    expect(d._id).toBe(JSON.stringify({ claim_id: d._source.claim_id }));
    expect(d._source).toMatchObject(i % 3 === 0 ? { status: 'settled', amount: 100 * i + 1, _op: 'u' } : { status: 'open', amount: 100 * i, _op: 'c' });
  }
  expect(await countDocuments(`${p}-claims-*`, { term: { 'status.keyword': 'settled' } })).toBe(20);
  const auto = await osRequest<{ hits: { total: { value: number } } }>('POST', `/${p}-policies-*/_search`, { query: { match: { product: 'auto' } } });
  expect(auto.hits.total.value).toBe(20);

  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_records_delivered_total', { route: `${p}-clm`, destination: 'opensearch' })).toBe(80);
  expect(metricValue(metrics, 'tideway_bridge_opensearch_documents_total', { route: `${p}-clm`, result: 'indexed' })).toBe(80);
  expect(metricValue(metrics, 'tideway_bridge_records_dropped_total', { route: `${p}-clm`, reason: 'transform-dropped' })).toBe(1);
  expect(metricValue(metrics, 'tideway_bridge_opensearch_bulk_requests_total', { route: `${p}-clm`, outcome: 'ok' })).toBeGreaterThan(0);
});

test('a document the index mapping refuses goes to the dead-letter topic with the reason; the route goes on', async () => {
  const p = uniqueName('os-map');
  const claims = `${p}.public.claims`;
  await topics(claims, `${claims}.dlq`);
  defer(() => deleteIndices(p));
  // amount is a number in the index; one change carries it as text.
  await osRequest('PUT', `/${p}-claims-2025-03-10`, { mappings: { properties: { amount: { type: 'long' } } } });
  const msgs = [];
  for (let i = 0; i < 100; i++) {
    const amount = i === 37 ? 'nine hundred' : 10 * i;
    msgs.push(change(claims, 'claims', 'claim_id', 'c', null, { claim_id: `CLM-${i}`, amount }, DAY1 + i));
  }
  await produce(kafka, msgs);
  bridge = await startBridge(writeRoutes(`routes:\n${route(p, claims, `${p}-claims`)}`));
  await waitCaughtUp(kafka, `tideway-bridge-${p}`, claims);

  const [dead, ...more] = await readTopicUntil(`${claims}.dlq`, (all) => all.length >= 1, { timeoutMs: 60_000, settleMs: 1000 });
  expect(more).toEqual([]);
  expect(dead.key?.toString()).toBe(JSON.stringify({ claim_id: 'CLM-37' }));
  expect(dead.headers['tideway.dlq.reason']?.toString()).toBe('document-rejected');
  expect(dead.headers['tideway.dlq.error']?.toString()).toMatch(/^400 mapper_parsing_exception: failed to parse field \[amount\] of type \[long\]/);
  expect(dead.headers['tideway.origin.topic']?.toString()).toBe(claims);
  const ids = (await allDocuments<{ claim_id: string }>(`${p}-claims-*`)).map((d) => d._source.claim_id);
  expect(ids).toHaveLength(99);
  expect(ids).not.toContain('CLM-37');
  const metrics = await bridge.metrics();
  expect(metricValue(metrics, 'tideway_bridge_opensearch_documents_total', { route: p, result: 'rejected' })).toBe(1);
  expect(metricValue(metrics, 'tideway_dlq_records_total', { topic: claims, reason: 'document-rejected' })).toBe(1);
});

describe('a private node', () => {
  let node: PrivateOpenSearch;
  beforeAll(async () => {
    node = await PrivateOpenSearch.start();
  });
  afterAll(() => node?.destroy());

  test('stopped for 20 s and started again under load: every document indexed once', async () => {
    const p = uniqueName('os-down');
    const claims = `${p}.public.claims`;
    await topics(claims, `${claims}.dlq`);
    const total = 3000;
    const msgs = Array.from({ length: total }, (_, i) =>
      change(claims, 'claims', 'claim_id', 'c', null, { claim_id: `CLM-${i}`, amount: i, status: 'open' }, DAY1 + i * 10),
    );
    bridge = await startBridge(writeRoutes(`routes:\n${route(p, claims, `${p}-claims`, node.url)}`), { BRIDGE_REQUEST_TIMEOUT_MS: '5000' });
    // Load before, during and after the outage: 100 changes every 200 ms.
    const producing = (async () => {
      for (let i = 0; i < total; i += 100) {
        await produce(kafka, msgs.slice(i, i + 100));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await waitFor(async () => metricValue(await bridge!.metrics(), 'tideway_bridge_records_delivered_total', { route: p, destination: 'opensearch' }) >= 300, {
      what: 'first deliveries',
      timeoutMs: 120_000,
    });
    await node.kill('SIGTERM');
    // The outage the scenario asks for; nothing is judged by time.
    await new Promise((r) => setTimeout(r, 20_000));
    const failedDuring = metricValue(await bridge.metrics(), 'tideway_bridge_opensearch_bulk_requests_total', { route: p, outcome: 'failed' });
    await node.restart();
    await producing;
    await waitCaughtUp(kafka, `tideway-bridge-${p}`, claims, 180_000);

    expect(failedDuring).toBeGreaterThan(0);
    const docs = await allDocuments<{ claim_id: string }>(`${p}-claims-*`, node.url);
    expect(docs.length).toBe(total);
    expect(new Set(docs.map((d) => d._source.claim_id)).size).toBe(total);
  });
});
