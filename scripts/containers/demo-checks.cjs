// The native demo's checks (services/demo/dist/pipeline), run in a one-shot container inside the
// compose network against what docker-compose.yml's services wrote:
//   node demo-checks.cjs settle           wait until the warehouse equals the source; print the
//                                         change topics' event count
//   node demo-checks.cjs final <events>   wait until every check passes (or the deadline), print them
// Exit 0 when every check passed. Environment: KAFKA_BROKERS, OLTP_URL, WAREHOUSE_URL, AWS_*,
// FIREHOSE_S3_ENDPOINT, LAKE_S3_ENDPOINT, CHECK_DEADLINE_S.
'use strict';
const { S3Client } = require('@aws-sdk/client-s3');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { Pool } = require('pg');
const rt = require('../../services/runtime/dist/index.js');
const { BucketReader, LandingCounter } = require('../../services/demo/dist/pipeline/landing-counts.js');
const { accountRecords } = require('../../services/demo/dist/pipeline/summary.js');

const TABLES = ['policies', 'claims', 'transactions'];
// docker-compose.yml's names: cdc's default topic template, deploy/compose/tideway/*.yaml, aws-setup.sh.
const plan = {
  runId: 'compose',
  schema: 'public',
  slot: 'tideway',
  topics: { policies: 'policies.changes', claims: 'claims.changes', transactions: 'transactions.changes' },
  alertsTopic: 'alerts',
  kinesisStream: 'tideway-transactions',
  kinesisShards: 2,
  deliveryStream: 'tideway-claims',
  firehoseBucket: 'tideway-firehose',
  lakeBucket: 'tideway-lake',
  groupPrefix: `tideway-compose-check-${process.pid}-${Date.now()}`,
};
const WAREHOUSE_SCHEMA = 'dwh'; // dwh-loader's default DWH_SCHEMA

async function main() {
  const [mode, expectedArg] = process.argv.slice(2);
  const deadline = Date.now() + Number(process.env.CHECK_DEADLINE_S ?? 300) * 1000;
  const oltp = new Pool({ connectionString: process.env.OLTP_URL, max: 2 });
  const warehouse = new Pool({ connectionString: process.env.WAREHOUSE_URL, max: 2 });
  const logger = rt.createLogger('compose-check', 'warn');
  const kafka = new rt.KafkajsClient(rt.kafkaConfigFrom(rt.loadSettings(rt.commonSettings('demo'), { env: process.env }), logger));
  const admin = kafka.admin();
  await admin.connect();
  const counter = new LandingCounter(plan, oltp, warehouse, kafka, admin);
  // Firehose delivers into moto's S3, the S3 route writes to the S3 store: one reader each.
  const s3 = (endpoint) => new S3Client({ endpoint, forcePathStyle: true, requestHandler: new NodeHttpHandler() });
  const firehoseBucket = new BucketReader(s3(process.env.FIREHOSE_S3_ENDPOINT), plan.firehoseBucket);
  const lakeBucket = new BucketReader(s3(process.env.LAKE_S3_ENDPOINT), plan.lakeBucket);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let checks;
  try {
    if (mode === 'settle') {
      let w;
      while (Date.now() < deadline) {
        w = await counter.warehouseComparison(WAREHOUSE_SCHEMA);
        if (w.sourceRows > 0 && !w.missing && !w.different && !w.extra) break;
        await sleep(2000);
      }
      console.log(JSON.stringify({ warehouse: w, events: await counter.eventsCaptured() }));
      return w.sourceRows > 0 && !w.missing && !w.different && !w.extra ? 0 : 1;
    }
    const expectedEvents = Number(expectedArg);
    await counter.startTopicReader();
    for (;;) {
      await Promise.all([firehoseBucket.refresh().catch(() => undefined), lakeBucket.refresh().catch(() => undefined)]);
      const events = await counter.eventsCaptured();
      const w = await counter.warehouseComparison(WAREHOUSE_SCHEMA);
      const topic = (t) => counter.changeEvents(t);
      const landed = {
        kinesis: accountRecords(topic('transactions'), await counter.kinesisRecords().catch(() => new Map())),
        firehose: accountRecords(topic('claims'), firehoseBucket.values),
        s3: accountRecords(topic('policies'), lakeBucket.values),
      };
      const events_of = (t) => [...topic(t).values()].reduce((x, y) => x + y, 0);
      const all = (t, a) => a.missing === 0 && events_of(t) > 0;
      const read = TABLES.reduce((n, t) => n + events_of(t), 0);
      checks = [
        {
          what: 'every change captured (one event per committed change)',
          ok: events === expectedEvents && read === events,
          detail: `${events} events (${read} read) / ${expectedEvents} expected`,
        },
        { what: 'the warehouse equals the source, row by row', ok: w.sourceRows > 0 && !w.missing && !w.different && !w.extra, detail: JSON.stringify(w) },
        { what: 'every transaction event reached Kinesis', ok: all('transactions', landed.kinesis), detail: JSON.stringify(landed.kinesis) },
        { what: 'fraud alerts fired', ok: counter.alertsFired() > 0, detail: `${counter.alertsFired()} alerts` },
        { what: 'every claim event delivered by Firehose', ok: all('claims', landed.firehose), detail: JSON.stringify(landed.firehose) },
        { what: 'every policy event written to S3', ok: all('policies', landed.s3), detail: JSON.stringify(landed.s3) },
      ];
      if (checks.every((c) => c.ok) || Date.now() > deadline) break;
      await sleep(3000);
    }
    for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}: ${c.detail}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await counter.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await oltp.end();
    await warehouse.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
