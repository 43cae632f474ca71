/** Settings of `tideway cdc`: one validated schema, documented with defaults and units. */
import { commonSettings, setting, settingProblem, type SettingsOf } from '@tideway/runtime';

/** `schema.table`, as the catalog spells it (case-sensitive; quoted when used in SQL). */
const TABLE_RE = /^[^.\s"]+\.[^.\s"]+$/;

export const cdcSettings = {
  ...commonSettings('cdc'),
  databaseUrl: setting.url({
    env: 'CDC_DATABASE_URL',
    importance: 'required',
    doc: 'PostgreSQL connection URL of the source database (user needs REPLICATION, or superuser to create a FOR ALL TABLES publication). Password may also come from PGPASSWORD.',
    protocols: ['postgres', 'postgresql'],
    secret: true,
  }),
  tables: setting.list({
    env: 'CDC_TABLES',
    importance: 'required',
    doc: 'Tables to capture as schema.table, comma-separated; empty = every table in the publication.',
    default: [],
    item: (v) => {
      if (!TABLE_RE.test(v)) settingProblem(`each table must be schema.table, got "${v}"`);
    },
  }),
  slot: setting.string({
    env: 'CDC_SLOT',
    importance: 'common',
    doc: 'Logical replication slot name; created when absent, reused when present, never dropped by the service.',
    default: 'tideway',
    pattern: /^[a-z0-9_]{1,63}$/,
    patternHint: '1-63 lower-case letters, digits or underscores',
  }),
  publication: setting.string({
    env: 'CDC_PUBLICATION',
    importance: 'common',
    doc: 'Publication name; created when absent (FOR the CDC_TABLES, or FOR ALL TABLES when CDC_TABLES is empty).',
    default: 'tideway',
    pattern: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    patternHint: 'an identifier of letters, digits and underscores',
  }),
  snapshot: setting.enum({
    env: 'CDC_SNAPSHOT',
    importance: 'common',
    doc: 'initial: emit existing rows (op r) once, consistent with the slot, before streaming; never: stream only.',
    values: ['initial', 'never'] as const,
    default: 'initial',
  }),
  topicTemplate: setting.string({
    env: 'CDC_TOPIC_TEMPLATE',
    importance: 'common',
    doc: 'Topic per table; {schema} and {table} are replaced, other characters than [a-zA-Z0-9._-] become _.',
    default: '{table}.changes',
    pattern: /\{table\}/,
    patternHint: 'a template containing {table}',
  }),
  topicPartitions: setting.int({
    env: 'CDC_TOPIC_PARTITIONS',
    importance: 'common',
    doc: 'Partitions of change topics the service creates (existing topics are left alone).',
    default: 3,
    min: 1,
    max: 10_000,
  }),
  topicReplicationFactor: setting.int({
    env: 'CDC_TOPIC_REPLICATION_FACTOR',
    importance: 'common',
    doc: 'Replication factor of created topics; -1 = the broker default.',
    default: -1,
    min: -1,
    max: 32,
  }),
  heartbeatMs: setting.duration({
    env: 'CDC_HEARTBEAT_MS',
    importance: 'tuning',
    doc: 'Interval of status updates to the server; lets the slot advance while captured tables are quiet. Keep below wal_sender_timeout/2.',
    default: 10_000,
    min: 100,
  }),
  tombstones: setting.bool({
    env: 'CDC_TOMBSTONES',
    importance: 'common',
    doc: 'Follow each delete with a tombstone (null value) for log compaction.',
    default: true,
  }),
  stateTable: setting.string({
    env: 'CDC_STATE_TABLE',
    importance: 'tuning',
    doc: 'schema.table in the source database where snapshot progress per slot is recorded (created when absent; never captured).',
    default: 'public.tideway_cdc_state',
    pattern: TABLE_RE,
    patternHint: 'schema.table',
  }),
  batchMaxRecords: setting.int({
    env: 'CDC_BATCH_MAX_RECORDS',
    importance: 'common',
    doc: 'Most records per Kafka produce request.',
    default: 5_000,
    min: 1,
    max: 100_000,
  }),
  batchMaxBytes: setting.int({
    env: 'CDC_BATCH_MAX_BYTES',
    importance: 'tuning',
    doc: "Most bytes per Kafka produce request; keep below the broker's message.max.bytes (one partition's share becomes one record batch).",
    default: 900_000,
    unit: 'bytes',
    min: 1_024,
    max: 100_000_000,
  }),
  maxBufferedRecords: setting.int({
    env: 'CDC_MAX_BUFFERED_RECORDS',
    importance: 'tuning',
    doc: 'Records not yet acknowledged by Kafka before reading from PostgreSQL pauses (bounds memory; two produce requests of the default size).',
    default: 10_000,
    min: 1,
    max: 1_000_000,
  }),
  snapshotFetchRows: setting.int({
    env: 'CDC_SNAPSHOT_FETCH_ROWS',
    importance: 'tuning',
    doc: 'Rows fetched per cursor round trip during the snapshot.',
    default: 2_000,
    min: 1,
    max: 100_000,
  }),
};

export type CdcSettings = SettingsOf<typeof cdcSettings>;

export function splitTableName(qualified: string): { schema: string; table: string } {
  const dot = qualified.indexOf('.');
  return { schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) };
}
