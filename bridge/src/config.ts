/** Settings of `tideway bridge`. Routes live in their own YAML file (see docs/bridge.md). */
import { commonSettings, setting } from '@tideway/runtime';

export const settings = {
  ...commonSettings('bridge'),
  routesFile: setting.string({
    env: 'BRIDGE_ROUTES',
    importance: 'required',
    doc: 'Path of the routes YAML file (which topics go to which Kinesis stream, Firehose delivery stream, S3 bucket or OpenSearch index).',
  }),
  consumerGroupPrefix: setting.string({
    env: 'BRIDGE_GROUP_PREFIX',
    importance: 'common',
    doc: 'Each route consumes as group `<prefix><route name>`.',
    default: 'tideway-bridge-',
  }),
  dlqSuffix: setting.string({
    env: 'BRIDGE_DLQ_SUFFIX',
    importance: 'common',
    doc: 'Dead-letter topic of a record: its topic plus this suffix (unless the route sets deadLetterTopic).',
    default: '.dlq',
  }),
  maxBufferedBytes: setting.int({
    env: 'BRIDGE_MAX_BUFFERED_BYTES',
    importance: 'tuning',
    doc: 'Per kinesis/firehose route: bytes read and not yet accepted before fetching pauses (resumes at half). s3 and opensearch routes add their buffering size.',
    default: 8 * 1024 * 1024,
    min: 1024,
    unit: 'bytes',
  }),
  maxInFlightRequests: setting.int({
    env: 'BRIDGE_MAX_IN_FLIGHT_REQUESTS',
    importance: 'tuning',
    doc: 'Per route: concurrent PutRecords / PutRecordBatch calls, S3 uploads or OpenSearch _bulk requests.',
    default: 4,
    min: 1,
    max: 64,
  }),
  commitIntervalMs: setting.duration({
    env: 'BRIDGE_COMMIT_INTERVAL_MS',
    importance: 'tuning',
    doc: 'How often offsets of accepted records are committed to Kafka.',
    default: 1000,
    min: 10,
  }),
  sessionTimeoutMs: setting.duration({
    env: 'BRIDGE_SESSION_TIMEOUT_MS',
    importance: 'tuning',
    doc: 'Kafka group session timeout: how long an instance that died without leaving holds its partitions before the group reassigns them.',
    default: 30_000,
    min: 6_000,
  }),
  retryInitialMs: setting.duration({
    env: 'BRIDGE_RETRY_INITIAL_MS',
    importance: 'tuning',
    doc: 'First retry delay bound (exponential backoff with full jitter).',
    default: 100,
    min: 1,
  }),
  retryMaxMs: setting.duration({ env: 'BRIDGE_RETRY_MAX_MS', importance: 'tuning', doc: 'Largest retry delay bound.', default: 10_000, min: 1 }),
  requestTimeoutMs: setting.duration({
    env: 'BRIDGE_REQUEST_TIMEOUT_MS',
    importance: 'tuning',
    doc: 'Timeout of one AWS or OpenSearch HTTP request (then it is retried).',
    default: 30_000,
    min: 100,
  }),
  shardMapRefreshMs: setting.duration({
    env: 'BRIDGE_SHARD_MAP_REFRESH_MS',
    importance: 'tuning',
    doc: "How often kinesis routes re-read the stream's shards (for per-shard rate limiting after resharding).",
    default: 60_000,
    min: 1000,
  }),
};

export type BridgeSettingsSchema = typeof settings;
