/**
 * Everything `npm run demo` creates for one run, named with the run id so that runs sharing
 * one stack never share a topic, slot, schema, stream or bucket. Pure: names, environments and the rules/routes documents.
 */

export const DEMO_TABLES = ['policies', 'claims', 'transactions'] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

export interface PipelinePlan {
  runId: string;
  /** OLTP schema in the `app` database and warehouse schema in `warehouse`. */
  schema: string;
  slot: string;
  topics: Record<DemoTable, string>;
  alertsTopic: string;
  kinesisStream: string;
  kinesisShards: number;
  deliveryStream: string;
  firehoseBucket: string;
  lakeBucket: string;
  groupPrefix: string;
}

export function planFor(runId: string): PipelinePlan {
  if (!/^[a-z0-9]{4,12}$/.test(runId)) throw new Error(`run id must be 4-12 lower-case letters or digits, got "${runId}"`);
  const schema = `demo_${runId}`;
  return {
    runId,
    schema,
    slot: schema,
    // CDC_TOPIC_TEMPLATE {schema}.{table}.changes
    topics: { policies: `${schema}.policies.changes`, claims: `${schema}.claims.changes`, transactions: `${schema}.transactions.changes` },
    alertsTopic: `${schema}.alerts`,
    kinesisStream: `tideway-demo-${runId}-transactions`,
    kinesisShards: 2,
    deliveryStream: `tideway-demo-${runId}-claims`,
    firehoseBucket: `tideway-demo-${runId}-firehose`,
    lakeBucket: `tideway-demo-${runId}-lake`,
    groupPrefix: `tideway-demo-${runId}`,
  };
}

/**
 * The shipped fraud rules (examples/rules/fraud.yaml; the same three conditions as
 * deploy/compose/tideway/fraud-rules.yaml) over this run's CDC transactions topic. Keyed by
 * transaction, not account, so that no cooldown folds two fraudulent transactions of one
 * account into one alert: the summary can then expect one alert per fraudulent transaction.
 */
export function fraudRules(plan: PipelinePlan): unknown {
  const topic = plan.topics.transactions;
  return {
    rules: [
      {
        id: 'amount-over-threshold',
        topic,
        severity: 'high',
        title: 'Transaction over the threshold',
        keyBy: 'after.txn_id',
        when: 'op == "c" && double(after.amount) > 50000.0',
      },
      {
        id: 'country-mismatch',
        topic,
        severity: 'medium',
        title: "Transaction country differs from the account's country",
        keyBy: 'after.txn_id',
        when: 'op == "c" && after.country != after.account_country',
      },
      {
        id: 'night-hours',
        topic,
        severity: 'low',
        title: 'Transaction between 23:00 and 05:00 UTC',
        keyBy: 'after.txn_id',
        when: 'op == "c" && (timestamp(after.ts).getHours("UTC") >= 23 || timestamp(after.ts).getHours("UTC") < 5)',
      },
    ],
  };
}

/** Bridge routes: transactions → Kinesis, claims → Firehose, policies → S3. */
export function bridgeRoutes(plan: PipelinePlan): unknown {
  return {
    routes: [
      {
        name: `demo-${plan.runId}-kinesis`,
        topics: [plan.topics.transactions],
        kinesis: { stream: plan.kinesisStream, create: { shards: plan.kinesisShards }, partitionKey: 'key' },
      },
      { name: `demo-${plan.runId}-firehose`, topics: [plan.topics.claims], firehose: { deliveryStream: plan.deliveryStream } },
      {
        name: `demo-${plan.runId}-s3`,
        topics: [plan.topics.policies],
        s3: {
          bucket: plan.lakeBucket,
          create: true,
          forcePathStyle: true,
          prefix: 'policies/dt=!{timestamp:yyyy-MM-dd}/',
          bufferingHints: { sizeInMBs: 1, intervalInSeconds: 5 },
        },
      },
    ],
  };
}

/** The stream through which `tideway kinesis-api` serves the transactions topic: the topic's own name (no prefix). */
export function kinesisApiStream(plan: PipelinePlan): string {
  return plan.topics.transactions;
}

/** Service environments on top of the stack's (KAFKA_BROKERS, CDC_DATABASE_URL, AWS_* ...). */
export function serviceEnv(
  plan: PipelinePlan,
  files: { rules: string; routes: string },
  ports: { kinesisApi: number },
): Record<'cdc' | 'dwh-loader' | 'alerting' | 'bridge' | 'kinesis-api', Record<string, string>> {
  return {
    cdc: {
      CDC_TABLES: DEMO_TABLES.map((t) => `${plan.schema}.${t}`).join(','),
      CDC_SLOT: plan.slot,
      CDC_PUBLICATION: plan.slot,
      CDC_TOPIC_TEMPLATE: '{schema}.{table}.changes',
      CDC_STATE_TABLE: `${plan.schema}.tideway_cdc_state`,
    },
    'dwh-loader': { DWH_TOPICS: DEMO_TABLES.map((t) => plan.topics[t]).join(','), DWH_SCHEMA: plan.schema, DWH_GROUP_ID: `${plan.groupPrefix}-dwh` },
    alerting: { ALERTING_RULES: files.rules, ALERTING_GROUP_ID: `${plan.groupPrefix}-alerting`, ALERTS_TOPIC: plan.alertsTopic },
    bridge: { BRIDGE_ROUTES: files.routes, BRIDGE_GROUP_PREFIX: `${plan.groupPrefix}-bridge-` },
    // Local only: no signatures checked, on the loopback address, every topic a stream of the same name.
    'kinesis-api': { KINESIS_API_AUTH: 'none', KINESIS_API_HOST: '127.0.0.1', KINESIS_API_PORT: String(ports.kinesisApi), KINESIS_API_STREAM_PREFIX: '' },
  };
}
