/** Settings of `tideway alerting`: one validated schema (see `tideway alerting --help`). */
import { commonSettings, setting, type SettingsOf } from '@tideway/runtime';

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export const settings = {
  ...commonSettings('alerting'),
  rulesFile: setting.string({ env: 'ALERTING_RULES', importance: 'required', doc: 'Path of the YAML rules file (rules, aggregations, tables, notifiers); validated at start-up, reloaded on change or SIGHUP.' }),
  groupId: setting.string({
    env: 'ALERTING_GROUP_ID', importance: 'common',
    doc: 'Consumer group of the instances that share the work; also the prefix of the internal topics <group>.repartition and <group>.changelog and of the transactional ids.',
    default: 'tideway-alerting',
    pattern: /^[A-Za-z0-9._-]{1,200}$/,
    patternHint: 'letters, digits, . _ - (at most 200)',
  }),
  alertsTopic: setting.string({ env: 'ALERTS_TOPIC', importance: 'common', doc: 'Topic alerts are written to (JSON, keyed by the rule key).', default: 'alerts', pattern: TOPIC, patternHint: 'a Kafka topic name' }),
  internalPartitions: setting.int({
    env: 'ALERTING_INTERNAL_PARTITIONS', importance: 'common',
    doc: 'Partitions of the repartition and changelog topics when the service creates them: the most instances that can share windowed work.',
    default: 4,
    min: 1,
    max: 1024,
  }),
  createTopics: setting.bool({ env: 'ALERTING_CREATE_TOPICS', importance: 'common', doc: 'Create missing internal, alert, sink, late and dead-letter topics at start-up.', default: true }),
  topicReplicationFactor: setting.int({ env: 'ALERTING_TOPIC_REPLICATION_FACTOR', importance: 'common', doc: 'Replication factor of topics the service creates (-1 = broker default).', default: -1, min: -1, max: 10 }),
  idleTimeoutMs: setting.duration({
    env: 'ALERTING_IDLE_TIMEOUT_MS', importance: 'tuning',
    doc: 'After this long without events on a partition, its event time advances with the wall clock so that its windows close.',
    default: 30_000,
    min: 100,
  }),
  dlqSuffix: setting.string({ env: 'ALERTING_DLQ_SUFFIX', importance: 'common', doc: 'Malformed records of topic T go to T + this suffix, with reason and origin headers.', default: '.dlq', pattern: /^[A-Za-z0-9._-]{1,50}$/, patternHint: 'letters, digits, . _ -' }),
  partitionConcurrency: setting.int({
    env: 'ALERTING_PARTITION_CONCURRENCY', importance: 'tuning',
    doc: 'Partitions whose batches are evaluated and committed at the same time (each has its own transactions).',
    default: 1,
    min: 1,
    max: 64,
  }),
  evaluationThreads: setting.int({
    env: 'ALERTING_EVALUATION_THREADS', importance: 'tuning',
    doc: 'Worker threads that decode input events and evaluate rules on them, beside the main thread that fetches, keeps windows and commits; each holds its own compiled rules and copy of the lookup tables (about 45–65 MiB more RSS per thread). Worth it where a spare core exists: it takes about 45 % of the CPU per event off the main thread. 0 evaluates on the main thread.',
    default: 0,
    min: 0,
    max: 32,
  }),
  commitIntervalMs: setting.duration({
    env: 'ALERTING_COMMIT_INTERVAL_MS', importance: 'tuning',
    doc: "How long a partition's results gather in one Kafka transaction before it commits (as Kafka Streams' commit.interval.ms under exactly-once): longer means fewer transactions and fewer state writes per event, and up to this much added latency. 0 commits after every fetched batch.",
    default: 100,
    min: 0,
  }),
  fetchMaxBytesPerPartition: setting.int({
    env: 'ALERTING_FETCH_MAX_BYTES_PER_PARTITION', importance: 'tuning',
    doc: 'Most bytes one fetch returns per partition, in bytes; the whole fetch returns at most 4 times this. Decoded events take several times their size in memory until their transaction commits, so this bounds memory under a backlog.',
    default: 256 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
  }),
  fetchMaxWaitMs: setting.duration({ env: 'ALERTING_FETCH_MAX_WAIT_MS', importance: 'tuning', doc: 'Longest a fetch waits for data; bounds the latency added when traffic is low.', default: 100, min: 1 }),
  sessionTimeoutMs: setting.duration({ env: 'ALERTING_SESSION_TIMEOUT_MS', importance: 'tuning', doc: 'Consumer group session timeout: how long a dead instance keeps its partitions before the group reassigns them.', default: 30_000, min: 1000 }),
  transactionTimeoutMs: setting.duration({ env: 'ALERTING_TRANSACTION_TIMEOUT_MS', importance: 'tuning', doc: 'Kafka transaction timeout: an instance that dies mid-transaction blocks read_committed readers of its partitions at most this long.', default: 30_000, min: 1000 }),
  watchRules: setting.bool({ env: 'ALERTING_WATCH_RULES', importance: 'common', doc: 'Poll the rules file for changes (SIGHUP reloads it in any case).', default: true }),
  watchIntervalMs: setting.duration({ env: 'ALERTING_WATCH_INTERVAL_MS', importance: 'tuning', doc: 'How often the rules file is checked for changes.', default: 1000, min: 100 }),
  tableLoadTimeoutMs: setting.duration({ env: 'ALERTING_TABLE_LOAD_TIMEOUT_MS', importance: 'tuning', doc: 'Longest start-up waits for lookup tables to be read to their end before evaluating events anyway (logged).', default: 60_000, min: 100 }),
  notifierTimeoutMs: setting.duration({ env: 'NOTIFIER_TIMEOUT_MS', importance: 'tuning', doc: 'Timeout of one webhook request.', default: 5000, min: 100 }),
  notifierMaxAttempts: setting.int({ env: 'NOTIFIER_MAX_ATTEMPTS', importance: 'tuning', doc: 'Attempts per alert and notifier before giving up (the alert stays on the alerts topic).', default: 5, min: 1, max: 100 }),
  notifierBackoffInitialMs: setting.duration({ env: 'NOTIFIER_BACKOFF_INITIAL_MS', importance: 'tuning', doc: 'First retry delay bound of a notifier (exponential, full jitter).', default: 500, min: 1 }),
  notifierBackoffMaxMs: setting.duration({ env: 'NOTIFIER_BACKOFF_MAX_MS', importance: 'tuning', doc: 'Largest retry delay bound of a notifier.', default: 30_000, min: 1 }),
};

export type AlertingSettings = SettingsOf<typeof settings>;
