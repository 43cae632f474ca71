/**
 * `npm run demo`: the whole pipeline on this machine, without Docker, on the local stack.
 *   PostgreSQL (generator) → cdc → Kafka → dwh-loader (warehouse), alerting (fraud rules),
 *   bridge (Kinesis, Firehose, S3), kinesis-api (the transactions topic as a Kinesis stream)
 * Prints a progress line while it runs and a summary read from where the data landed, then
 * stops the services. Exit 0 when every destination holds exactly what was written.
 */
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Pool } from 'pg';
import { stringify } from 'yaml';
import {
  KafkajsClient,
  commonSettings,
  createLogger,
  kafkaConfigFrom,
  errorMessage,
  freePort,
  ignoreFailure,
  isTidewayError,
  loadSettings,
  renderSettingsHelp,
  sleep,
} from '@tideway/runtime';
import { ChangeGenerator, type Change } from '../generator';
import { runPacedGenerator } from '../paced-generator';
import { PostgresChangeWriter, quoteIdent } from '../postgres-writer';
import { ChildService } from './child-services';
import { LandingCounter } from './landing-counts';
import { DEMO_TABLES, bridgeRoutes, fraudRules, kinesisApiStream, planFor, serviceEnv } from './pipeline-plan';
import { pipelineSettings } from './pipeline-settings';
import { accountRecords, consistencyChecks, progressLine, summaryText, type Expectations, type LandedCounts } from './summary';

const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
const SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api'] as const;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    say(
      'npm run demo — the whole Tideway pipeline on the local stack, with a live progress line and a summary.\n\n' +
        `Settings (environment):\n${renderSettingsHelp(pipelineSettings)}`,
    );
    return 0;
  }
  const s = loadSettings(pipelineSettings, { env: process.env });

  say('Starting the local stack (npm run stack:up)…');
  const up = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'stack', 'up.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (up.status !== 0) throw new Error('the local stack did not start (see above)');
  // KAFKA_BROKERS, CDC_DATABASE_URL, DWH_DATABASE_URL, AWS_* from scripts/stack/stack.env (the environment wins).
  require(join(REPO_ROOT, 'test-support', 'load-stack-env.js'));

  const plan = planFor(randomBytes(4).toString('hex'));
  const runDir = join(REPO_ROOT, '.stack', 'demo', plan.runId);
  mkdirSync(runDir, { recursive: true });
  const files = { rules: join(runDir, 'fraud-rules.yaml'), routes: join(runDir, 'routes.yaml') };
  writeFileSync(files.rules, stringify(fraudRules(plan)));
  writeFileSync(files.routes, stringify(bridgeRoutes(plan)));
  say(`Run ${plan.runId}: schema ${plan.schema}, topics ${plan.schema}.*.changes, config and logs in ${relative(process.cwd(), runDir)}/`);

  const oltp = new Pool({ connectionString: process.env.CDC_DATABASE_URL, max: 3 });
  const warehouse = new Pool({ connectionString: process.env.DWH_DATABASE_URL, max: 2 });
  const logger = createLogger('demo', 'warn');
  const kafka = new KafkajsClient(kafkaConfigFrom(loadSettings(commonSettings('demo'), { env: process.env }), logger));
  const admin = kafka.admin();
  const services: ChildService[] = [];
  const counter = new LandingCounter(plan, oltp, warehouse, kafka, admin);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  try {
    // Tables before cdc (its publication names them); topics before the consumers subscribe.
    const writer = new PostgresChangeWriter(oltp, plan.schema);
    await writer.ensureSchema();
    await admin.connect();
    await admin.ensureTopics(DEMO_TABLES.map((t) => ({ topic: plan.topics[t], partitions: 3 })));
    await admin.ensureTopics([{ topic: plan.alertsTopic, partitions: 1 }]);
    // The Firehose delivery stream (moto) and the bucket it delivers into; the bridge creates the Kinesis stream and the S3 route's bucket.
    await counter.s3.send(new CreateBucketCommand({ Bucket: plan.firehoseBucket }));
    const firehose = new FirehoseClient({ requestHandler: new NodeHttpHandler() });
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: plan.deliveryStream,
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          RoleARN: 'arn:aws:iam::123456789012:role/firehose',
          BucketARN: `arn:aws:s3:::${plan.firehoseBucket}`,
          Prefix: 'claims/',
        },
      }),
    );
    firehose.destroy();

    const kinesisApiPort = await freePort();
    const kinesisApiUrl = `http://127.0.0.1:${kinesisApiPort}`;
    const env = serviceEnv(plan, files, { kinesisApi: kinesisApiPort });
    for (const name of SERVICES) {
      services.push(await ChildService.start(REPO_ROOT, name, { ...env[name], LOG_LEVEL: 'info' }, runDir));
    }
    await Promise.all(services.map((svc) => svc.waitReady(120_000)));
    say(`Services ready: ${services.map((svc) => `${svc.name} (http://127.0.0.1:${svc.port}/metrics)`).join(', ')}`);
    await counter.startTopicReader();
    counter.startKinesisApiReader(kinesisApiUrl);

    const expected: Expectations = { transactionEvents: 0, fraudTransactions: 0, claimEvents: 0, policyEvents: 0 };
    let rowsWritten = 0;
    const onWritten = (batch: readonly Change[]) => {
      rowsWritten += batch.length;
      for (const c of batch) {
        if (c.table === 'transactions') {
          expected.transactionEvents += 1;
          if (c.fraud) expected.fraudTransactions += 1;
        } else if (c.table === 'claims') expected.claimEvents += 1;
        else expected.policyEvents += 1;
      }
    };
    const counts = async (): Promise<LandedCounts> => {
      await Promise.all([counter.firehoseBucket.refresh(), counter.lakeBucket.refresh()]);
      return {
        rowsWritten,
        eventsCaptured: await counter.eventsCaptured(),
        warehouse: await counter.warehouseComparison(),
        alertsFired: counter.alertsFired(),
        kinesis: accountRecords(counter.changeEvents('transactions'), await counter.kinesisRecords()),
        kinesisApi: accountRecords(counter.changeEvents('transactions'), await counter.kinesisApiRecords()),
        firehose: accountRecords(counter.changeEvents('claims'), counter.firehoseBucket.values),
        s3: accountRecords(counter.changeEvents('policies'), counter.lakeBucket.values),
        firehoseObjects: counter.firehoseBucket.objects,
        s3Objects: counter.lakeBucket.objects,
      };
    };

    const started = Date.now();
    const seed = s.seed || Math.floor(Math.random() * 2 ** 31);
    say(`Generating ${s.rate} changes/s for ${s.durationMs / 1000} s (fraud ratio ${s.fraudRatio}, seed ${seed})…`);
    let lastProgress = 0;
    const progress = async (force = false) => {
      if (!force && Date.now() - lastProgress < s.progressIntervalMs) return undefined;
      lastProgress = Date.now();
      const c = await counts();
      say(progressLine((Date.now() - started) / 1000, c));
      for (const svc of services) if (!svc.running()) throw new Error(`tideway ${svc.name} stopped; see ${svc.logFile}`);
      return c;
    };
    const ticker = setInterval(() => void progress().catch((err) => say(`progress: ${errorMessage(err)}`)), 500);
    try {
      await runPacedGenerator(
        new ChangeGenerator({ seed, fraudRatio: s.fraudRatio, idPrefix: plan.runId }),
        writer,
        { rate: s.rate, batchMaxChanges: Math.max(10, Math.ceil(s.rate)), maxChanges: 0, durationMs: s.durationMs, signal: abort.signal },
        onWritten,
        (err, attempt) => say(`write failed (attempt ${attempt}), retrying: ${errorMessage(err)}`),
      );
    } finally {
      clearInterval(ticker);
    }

    say(`Generator done: ${rowsWritten} changes. Waiting for every destination to catch up (at most ${s.settleTimeoutMs / 1000} s)…`);
    const settleDeadline = Date.now() + s.settleTimeoutMs;
    let final = await counts();
    while (!abort.signal.aborted && Date.now() < settleDeadline && !consistencyChecks(final, expected).every((c) => c.ok)) {
      await sleep(1000);
      final = (await progress()) ?? final;
    }
    final = await counts();
    const checks = consistencyChecks(final, expected);
    say(
      summaryText(final, checks, [
        `OLTP:      psql postgres://postgres@127.0.0.1:55432/app -c 'select * from ${plan.schema}.transactions limit 5'`,
        `warehouse: psql postgres://postgres@127.0.0.1:55432/warehouse -c '\\dt ${plan.schema}.*'`,
        `Kafka:     topics ${plan.schema}.{policies,claims,transactions}.changes and ${plan.alertsTopic} on ${process.env.KAFKA_BROKERS}`,
        `Kinesis:   stream ${plan.kinesisStream} at ${process.env.AWS_ENDPOINT_URL_KINESIS}`,
        `Kinesis API: stream ${kinesisApiStream(plan)} at ${kinesisApiUrl} (tideway kinesis-api, while the demo runs)`,
        `S3:        buckets ${plan.firehoseBucket} (Firehose) and ${plan.lakeBucket} at ${process.env.AWS_ENDPOINT_URL_S3}`,
        `logs:      ${relative(process.cwd(), runDir)}/<service>.log`,
      ]),
    );
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    // The readers first: an open keep-alive connection would hold tideway kinesis-api's graceful stop.
    await counter.stop().catch(ignoreFailure(logger, 'stopping the landing counter'));
    await Promise.all(services.map((svc) => svc.stop()));
    // An idle logical slot holds WAL forever: drop this run's slot and publication (the data stays).
    await oltp
      .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [plan.slot])
      .then(() => oltp.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(plan.slot)}`))
      .catch((err) => say(`could not drop replication slot ${plan.slot}: ${errorMessage(err)} (drop it with pg_drop_replication_slot)`));
    await admin.disconnect().catch(ignoreFailure(logger, 'admin disconnect'));
    await oltp.end();
    await warehouse.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`npm run demo: ${isTidewayError(err) ? err.message : errorMessage(err)}\n`);
    process.exit(isTidewayError(err) ? err.exitCode : 1);
  },
);
