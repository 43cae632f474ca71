/**
 * Settings of `tideway dwh-loader`. Every setting: env name, one-line doc, default and unit.
 */
import { commonSettings, setting } from '@tideway/runtime';

export const settings = {
  ...commonSettings('dwh-loader'),
  groupId: setting.string({
    env: 'DWH_GROUP_ID',
    importance: 'common',
    doc: 'Kafka consumer group; loaders with the same group share the partitions. Also the key of the offsets stored in the warehouse.',
    default: 'dwh-loader',
  }),
  topics: setting.string({
    env: 'DWH_TOPICS',
    importance: 'required',
    doc: 'Change topics to load: a comma-separated list of names, or a regular expression between slashes. A regex is re-evaluated every DWH_TOPICS_REFRESH_MS.',
    default: '/\\.changes$/',
  }),
  topicsRefreshMs: setting.duration({
    env: 'DWH_TOPICS_REFRESH_MS',
    importance: 'tuning',
    doc: 'With a regex DWH_TOPICS: how often to look for new matching topics (a change re-subscribes the group).',
    default: 30_000,
    min: 100,
  }),
  databaseUrl: setting.url({
    env: 'DWH_DATABASE_URL',
    importance: 'required',
    doc: 'Warehouse connection, postgres://user@host:port/database. May hold a password, so it is accepted only from the environment (PGPASSWORD works too).',
    protocols: ['postgres', 'postgresql'],
    secret: true,
  }),
  schema: setting.string({
    env: 'DWH_SCHEMA',
    importance: 'common',
    doc: 'Warehouse schema holding the tables and the offsets table (created when missing).',
    default: 'dwh',
    pattern: /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/,
    patternHint: 'a plain SQL identifier (letters, digits, _ and $, at most 63 characters)',
  }),
  mode: setting.enum({
    env: 'DWH_MODE',
    importance: 'common',
    doc: '`upsert`: one row per primary key, the current state. `history`: append every change with its op, LSN and timestamps.',
    values: ['upsert', 'history'] as const,
    default: 'upsert',
  }),
  deleteMode: setting.enum({
    env: 'DWH_DELETE_MODE',
    importance: 'common',
    doc: 'Upsert mode only. `hard`: a delete removes the row. `soft`: it sets `_deleted = true` and keeps the row.',
    values: ['hard', 'soft'] as const,
    default: 'hard',
  }),
  tableNaming: setting.enum({
    env: 'DWH_TABLE_NAMING',
    importance: 'common',
    doc: 'Warehouse table name: `table` (source table name) or `schema_table` (`<source schema>_<table>`, when several source schemas share table names).',
    values: ['table', 'schema_table'] as const,
    default: 'table',
  }),
  batchMaxRows: setting.int({
    env: 'DWH_BATCH_MAX_ROWS',
    importance: 'common',
    doc: 'Most records applied in one warehouse transaction; a larger fetch is split.',
    default: 5000,
    min: 1,
    max: 100_000,
    unit: 'records',
  }),
  batchMaxWaitMs: setting.duration({
    env: 'DWH_BATCH_MAX_WAIT_MS',
    importance: 'tuning',
    doc: 'Longest a fetch waits for more records before the batch is applied (bounds the added latency).',
    default: 250,
    min: 1,
  }),
  batchMaxBytes: setting.int({
    env: 'DWH_BATCH_MAX_BYTES',
    importance: 'tuning',
    doc: 'Most bytes fetched per partition at once (bounds memory per batch).',
    default: 2 * 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    unit: 'bytes',
  }),
  concurrency: setting.int({
    env: 'DWH_CONCURRENCY',
    importance: 'tuning',
    doc: 'Partitions applied in parallel, each on its own warehouse connection.',
    default: 3,
    min: 1,
    max: 64,
    unit: 'partitions',
  }),
  sessionTimeoutMs: setting.duration({
    env: 'DWH_SESSION_TIMEOUT_MS',
    importance: 'tuning',
    doc: 'Kafka group session timeout: how long a loader that died without leaving holds its partitions before the group reassigns them.',
    default: 30_000,
    min: 6_000,
  }),
  dlqSuffix: setting.string({
    env: 'DWH_DLQ_SUFFIX',
    importance: 'common',
    doc: 'Dead-letter topic of a change topic: the topic name plus this suffix.',
    default: '.dlq',
    pattern: /^[A-Za-z0-9._-]+$/,
    patternHint: 'letters, digits, ".", "_" or "-"',
  }),
  retryMaxMs: setting.duration({
    env: 'DWH_RETRY_MAX_MS',
    importance: 'tuning',
    doc: 'Longest backoff between retries of a batch the warehouse could not take (connection lost, ...).',
    default: 30_000,
    min: 10,
  }),
};

export type DwhSettingsSchema = typeof settings;
