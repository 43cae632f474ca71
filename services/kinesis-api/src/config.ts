/**
 * Settings of `tideway kinesis-api`. Every setting: env name, one-line doc, default and unit.
 */
import { ConfigError, commonSettings, setting, type SettingsOf } from '@tideway/runtime';

const MIB = 1024 * 1024;

export const settings = {
  ...commonSettings('kinesis-api'),
  auth: setting.enum({
    env: 'KINESIS_API_AUTH',
    importance: 'common',
    doc: '`sigv4`: every request must carry an AWS Signature V4 made with a key from KINESIS_API_CREDENTIALS_FILE. `none`: no authentication (local use only).',
    values: ['sigv4', 'none'] as const,
    default: 'sigv4',
  }),
  credentialsFile: setting.string({
    env: 'KINESIS_API_CREDENTIALS_FILE',
    importance: 'required',
    doc: 'With KINESIS_API_AUTH=sigv4: file of the accepted keys, one `ACCESS_KEY_ID:SECRET_ACCESS_KEY` per line (`#` starts a comment).',
    optional: true,
    default: '',
  }),
  port: setting.int({
    env: 'KINESIS_API_PORT',
    importance: 'common',
    doc: 'Port of the Kinesis API (the port local AWS endpoints conventionally use).',
    default: 4566,
    min: 0,
    max: 65535,
  }),
  host: setting.string({
    env: 'KINESIS_API_HOST',
    importance: 'common',
    doc: 'Address the Kinesis API binds to (0.0.0.0 in containers).',
    default: '127.0.0.1',
  }),
  streamPrefix: setting.string({
    env: 'KINESIS_API_STREAM_PREFIX',
    importance: 'common',
    doc: 'Prefix of the Kafka topic of a stream: topic = prefix + stream name. Only topics with the prefix are streams.',
    optional: true,
    default: '',
    pattern: /^[A-Za-z0-9._-]*$/,
    patternHint: 'letters, digits, ".", "_" or "-"',
  }),
  onDemandShards: setting.int({
    env: 'KINESIS_API_ON_DEMAND_SHARDS',
    importance: 'common',
    doc: 'Shards (topic partitions) of a stream created in ON_DEMAND mode.',
    default: 4,
    min: 1,
    max: 1000,
    unit: 'shards',
  }),
  firehosePartitions: setting.int({
    env: 'KINESIS_API_FIREHOSE_PARTITIONS',
    importance: 'common',
    doc: 'Partitions of the topic of a Firehose delivery stream created with CreateDeliveryStream.',
    default: 4,
    min: 1,
    max: 1000,
    unit: 'partitions',
  }),
  defaultRetentionHours: setting.int({
    env: 'KINESIS_API_DEFAULT_RETENTION_HOURS',
    importance: 'common',
    doc: 'Retention (topic retention.ms) of a created stream, as Kinesis gives a new stream.',
    default: 24,
    min: 1,
    max: 8760,
    unit: 'hours',
  }),
  iteratorSecretFile: setting.string({
    env: 'KINESIS_API_ITERATOR_SECRET_FILE',
    importance: 'common',
    doc: 'File holding the key that signs shard iterators; every instance serving the same streams must share it. Unset: a random key per process, so an iterator works only on the instance that issued it.',
    optional: true,
    default: '',
  }),
  tlsCertFile: setting.string({
    env: 'KINESIS_API_TLS_CERT_FILE',
    importance: 'common',
    doc: 'PEM certificate (chain) to serve HTTPS; set with KINESIS_API_TLS_KEY_FILE. Unset: plain HTTP.',
    optional: true,
    default: '',
  }),
  tlsKeyFile: setting.string({
    env: 'KINESIS_API_TLS_KEY_FILE',
    importance: 'common',
    doc: 'PEM private key of KINESIS_API_TLS_CERT_FILE.',
    optional: true,
    default: '',
  }),
  shardLimits: setting.bool({
    env: 'KINESIS_API_SHARD_LIMITS',
    importance: 'common',
    doc: 'Enforce per-shard throughput limits as Kinesis does (ProvisionedThroughputExceededException when over). Off: a shard takes what Kafka takes.',
    default: false,
  }),
  writeBytesPerShard: setting.int({
    env: 'KINESIS_API_WRITE_BYTES_PER_SHARD',
    importance: 'tuning',
    doc: 'With KINESIS_API_SHARD_LIMITS: bytes (data + partition keys) a shard accepts per second.',
    default: MIB,
    min: 1,
    unit: 'bytes/s',
  }),
  writeRecordsPerShard: setting.int({
    env: 'KINESIS_API_WRITE_RECORDS_PER_SHARD',
    importance: 'tuning',
    doc: 'With KINESIS_API_SHARD_LIMITS: records a shard accepts per second.',
    default: 1000,
    min: 1,
    unit: 'records/s',
  }),
  readBytesPerShard: setting.int({
    env: 'KINESIS_API_READ_BYTES_PER_SHARD',
    importance: 'tuning',
    doc: 'With KINESIS_API_SHARD_LIMITS: bytes GetRecords returns from a shard per second.',
    default: 2 * MIB,
    min: 1,
    unit: 'bytes/s',
  }),
  writeTimeoutMs: setting.duration({
    env: 'KINESIS_API_WRITE_TIMEOUT',
    importance: 'tuning',
    doc: 'How long PutRecord(s) waits for Kafka to acknowledge its records before answering ServiceUnavailable (the records may still be written: a retry can then duplicate them, as with Kinesis).',
    default: 10_000,
    min: 100,
  }),
  iteratorTtlMs: setting.duration({
    env: 'KINESIS_API_ITERATOR_TTL',
    importance: 'tuning',
    doc: 'How long a shard iterator stays valid after it was issued (Kinesis: 5 minutes); ExpiredIteratorException after that.',
    default: 5 * 60_000,
    min: 1000,
  }),
};

export type KinesisApiSettingsSchema = typeof settings;
export type KinesisApiSettings = SettingsOf<KinesisApiSettingsSchema>;

/** Checks across settings, after each was validated on its own. Pure. */
export function checkSettings(s: Pick<KinesisApiSettings, 'auth' | 'credentialsFile' | 'tlsCertFile' | 'tlsKeyFile'>): void {
  if (s.auth === 'sigv4' && s.credentialsFile === '') {
    throw new ConfigError('KINESIS_API_CREDENTIALS_FILE', 'is required with KINESIS_API_AUTH=sigv4 (or set KINESIS_API_AUTH=none for local use)');
  }
  if ((s.tlsCertFile === '') !== (s.tlsKeyFile === '')) {
    throw new ConfigError(s.tlsCertFile === '' ? 'KINESIS_API_TLS_CERT_FILE' : 'KINESIS_API_TLS_KEY_FILE', 'must be set together with the other TLS file');
  }
}
