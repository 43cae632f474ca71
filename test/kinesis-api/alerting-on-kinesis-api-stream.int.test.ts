/**
 * A stream written through `tideway kinesis-api` (JavaScript SDK, PutRecords) consumed as it is by
 * `tideway alerting` with the shipped fraud rules (examples/rules/fraud.yaml: seed 003's three rules
 * over plain JSON transactions), pointed at the stream's topic. The alerts topic holds exactly one
 * alert per rule a transaction breaks, and none for the others.
 */
import { readFileSync } from 'node:fs';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { parse, stringify } from 'yaml';
import { createTopics, deleteTopicsWithPrefix, testKafka } from '../../test-support/kafka';
import { json, readTopicUntil } from '../../test-support/kafka-read';
import { seededRandom } from '../../test-support/seeded-random';
import { uniqueName } from '../../test-support/stack';
import { writeTempFile } from '../../test-support/temp-file';
import { TidewayProcess } from '../../test-support/tideway-process';
import { startKinesisApi, type KinesisApi } from '../../test-support/kinesis-api-process';
import { REPO_ROOT } from '../../test-support/kinesis-clients/client-tools';

jest.setTimeout(420_000);

const TRANSACTIONS = 120;

interface Transaction {
  txn_id: string;
  account_id: string;
  amount: number;
  country: string;
  account_country: string;
  ts: string;
}

/** The rules of seed 003's fraud Lambda, computed here: the ids of the rules a transaction breaks. */
function brokenRules(t: Transaction): string[] {
  const hour = new Date(t.ts).getUTCHours();
  return [
    ...(t.amount > 50000 ? ['amount-over-threshold'] : []),
    ...(t.country !== t.account_country ? ['country-mismatch'] : []),
    ...(hour >= 23 || hour < 5 ? ['night-hours'] : []),
  ];
}

function transactions(n: number): Transaction[] {
  const random = seededRandom(20_260_316);
  const countries = ['ES', 'FR', 'PT'];
  return Array.from({ length: n }, (_, i) => {
    const home = countries[Math.floor(random() * countries.length)];
    return {
      txn_id: `TXN${String(i).padStart(5, '0')}`,
      account_id: `A-${Math.floor(random() * 20)}`,
      amount: Math.floor(random() * 60_000) + 1 + (i % 7 === 0 ? 50_000 : 0),
      country: random() < 0.2 ? countries[(countries.indexOf(home) + 1) % countries.length] : home,
      account_country: home,
      ts: new Date(Date.UTC(2026, 10, 22, Math.floor(random() * 24), Math.floor(random() * 60))).toISOString(),
    };
  });
}

/** examples/rules/fraud.yaml on this run's topics, without its webhook notifier. */
function fraudRulesFor(topic: string, accountsTopic: string): string {
  const doc = parse(readFileSync(`${REPO_ROOT}/examples/rules/fraud.yaml`, 'utf8')) as {
    tables: Array<{ topic: string }>;
    rules: Array<{ topic: string }>;
    notifiers?: unknown;
  };
  for (const t of doc.tables) t.topic = accountsTopic;
  for (const r of doc.rules) r.topic = topic;
  delete doc.notifiers;
  return stringify(doc);
}

describe('tideway alerting on a stream written through the Kinesis API', () => {
  let api: KinesisApi | undefined;
  let alerting: TidewayProcess | undefined;
  const id = uniqueName('kapi-fraud');

  afterAll(async () => {
    await alerting?.stop();
    await api?.proc.stop();
    await deleteTopicsWithPrefix(testKafka(), [id, ...(api ? [api.prefix] : [])]);
  });

  it('raises one alert per fraud rule a transaction breaks, and none for the others', async () => {
    api = await startKinesisApi();
    const stream = 'transacciones-realtime';
    const topic = `${api.prefix}${stream}`;
    const txns = transactions(TRANSACTIONS);
    const client = api.client();
    try {
      await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 3 }));
      for (let i = 0; i < txns.length; i += 50) {
        const res = await client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: txns.slice(i, i + 50).map((t) => ({ Data: Buffer.from(JSON.stringify(t)), PartitionKey: t.account_id })),
          }),
        );
        expect(res.FailedRecordCount).toBe(0);
      }
    } finally {
      client.destroy();
    }

    const accountsTopic = `${id}.accounts.changes`;
    const alertsTopic = `${id}.alerts`;
    await createTopics(testKafka(), [{ topic: accountsTopic, partitions: 1 }]);
    const rulesFile = writeTempFile('fraud-rules.yaml', fraudRulesFor(topic, accountsTopic));
    alerting = await TidewayProcess.start('alerting', {
      ALERTING_RULES: rulesFile,
      ALERTING_GROUP_ID: `${id}-alerting`,
      ALERTS_TOPIC: alertsTopic,
      ALERTING_INTERNAL_PARTITIONS: '2',
      ALERTING_EVALUATION_THREADS: '0',
    });
    await alerting.waitReady(180_000);

    const expected = txns.flatMap((t) => brokenRules(t).map((rule) => `${rule} ${t.txn_id}`)).sort();
    const flagged = new Set(txns.filter((t) => brokenRules(t).length > 0).map((t) => t.txn_id));
    // Every kind of transaction is there: each rule fires, and some transactions break none.
    for (const rule of ['amount-over-threshold', 'country-mismatch', 'night-hours']) expect(expected.some((e) => e.startsWith(`${rule} `))).toBe(true);
    expect(flagged.size).toBeLessThan(TRANSACTIONS);

    const alerts = await readTopicUntil(alertsTopic, (all) => all.length >= expected.length, {
      readCommitted: true,
      awaitTopic: true,
      timeoutMs: 240_000,
      settleMs: 5_000,
    });
    const got = alerts.map((m) => json<{ rule: string; values: { txn_id: string } }>(m)).map((a) => `${a.rule} ${a.values.txn_id}`);
    expect(got.sort()).toEqual(expected);
    expect(alerting.child.exitCode).toBeNull();
  });
});
