/**
 * Whether an error raised by a client library (@confluentinc/kafka-javascript, kafkajs, pg, the AWS
 * SDK, Node's sockets) is worth retrying, read from the data the libraries attach: librdkafka's
 * numeric `code` and `fatal`/`abortable`/`retriable`, kafkajs's `retriable`, `type` and `name`, PostgreSQL's
 * SQLSTATE `code`, the AWS SDK's `$retryable` and HTTP status, Node's `code`. Pure.
 *
 * The lists name what an operator must act on (fencing, authentication, authorization, invalid
 * requests) and what a client library gives up on although it passes (timeouts, exhausted
 * retries, a coordinator not elected yet); everything else follows the library's own flag.
 */

/** Kafka protocol errors that need an operator (or mean a newer instance took over). */
const KAFKA_STOP_TYPES = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
  'POLICY_VIOLATION',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_VERSION',
  'INVALID_TRANSACTION_TIMEOUT',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);

/** Kafka protocol errors that pass although a client may flag them otherwise. */
const KAFKA_RETRY_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'THROTTLING_QUOTA_EXCEEDED',
]);

/** kafkajs error classes by name: the ones to stop on, and the non-retriable ones that pass. */
const KAFKAJS_STOP_NAMES = new Set([
  'KafkaJSSASLAuthenticationError',
  'KafkaJSServerDoesNotSupportApiKey',
  'KafkaJSNotImplemented',
  'KafkaJSUnsupportedMagicByteInMessageSet',
  'KafkaJSInvariantViolation',
]);
const KAFKAJS_RETRY_NAMES = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSFetcherRebalanceError',
]);

/**
 * librdkafka (@confluentinc/kafka-javascript) error codes: Kafka's protocol codes (positive) and
 * its own local ones (negative). Its error names mimic kafkajs's but its `type` is librdkafka's
 * code name (or a number for aliased codes), so the numeric code is what is read.
 */
const RDKAFKA_STOP_CODES = new Set([
  -144, // ERR__FENCED: a newer producer with the same transactional id took over
  -169, // ERR__AUTHENTICATION
  -186, // ERR__INVALID_ARG
  -170, // ERR__NOT_IMPLEMENTED
  -165, // ERR__UNSUPPORTED_FEATURE
  -145, // ERR__NOT_CONFIGURED
  17, // INVALID_TOPIC_EXCEPTION
  29, // TOPIC_AUTHORIZATION_FAILED
  30, // GROUP_AUTHORIZATION_FAILED
  31, // CLUSTER_AUTHORIZATION_FAILED
  33, // UNSUPPORTED_SASL_MECHANISM
  34, // ILLEGAL_SASL_STATE
  35, // UNSUPPORTED_VERSION
  37, // INVALID_PARTITIONS
  38, // INVALID_REPLICATION_FACTOR
  40, // INVALID_CONFIG
  43, // UNSUPPORTED_FOR_MESSAGE_FORMAT
  44, // POLICY_VIOLATION
  47, // INVALID_PRODUCER_EPOCH
  50, // INVALID_TRANSACTION_TIMEOUT
  53, // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  58, // SASL_AUTHENTICATION_FAILED
  90, // PRODUCER_FENCED
]);
const RDKAFKA_RETRY_CODES = new Set([
  -195, // ERR__TRANSPORT
  -193, // ERR__RESOLVE
  -192, // ERR__MSG_TIMED_OUT
  -187, // ERR__ALL_BROKERS_DOWN
  -188, // ERR__UNKNOWN_TOPIC (a topic not propagated yet)
  -185, // ERR__TIMED_OUT
  -184, // ERR__QUEUE_FULL
  -180, // ERR__WAIT_COORD
  -166, // ERR__TIMED_OUT_QUEUE
  -142, // ERR__ASSIGNMENT_LOST
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  13, // NETWORK_EXCEPTION
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  19, // NOT_ENOUGH_REPLICAS
  20, // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  22, // ILLEGAL_GENERATION (the group rebalanced: offsets go with the next transaction)
  25, // UNKNOWN_MEMBER_ID
  27, // REBALANCE_IN_PROGRESS
  41, // NOT_CONTROLLER
  51, // CONCURRENT_TRANSACTIONS
  56, // KAFKA_STORAGE_ERROR
  89, // THROTTLING_QUOTA_EXCEEDED
]);

/**
 * A librdkafka error: the KafkaJS layer's (`code`, `fatal`, `abortable`, `retriable`) or node-rdkafka's
 * own (`code`, `isFatal`, `isRetriable`, `isTxnRequiresAbort`). Known codes first; then a fatal error
 * stops (the client instance is unusable: a producer fenced or its idempotence state lost), an
 * abortable one passes (abort the transaction and go again), otherwise the library's flag.
 */
function rdkafkaVerdict(o: Obj): Verdict | undefined {
  if (typeof o.code !== 'number') return undefined;
  const fatal = typeof o.fatal === 'boolean' ? o.fatal : o.isFatal;
  const abortable = typeof o.abortable === 'boolean' ? o.abortable : o.isTxnRequiresAbort;
  const retriable = typeof o.retriable === 'boolean' ? o.retriable : o.isRetriable;
  if (typeof fatal !== 'boolean' || typeof abortable !== 'boolean') return undefined;
  if (RDKAFKA_STOP_CODES.has(o.code)) return { known: false };
  if (RDKAFKA_RETRY_CODES.has(o.code)) return { known: true };
  if (fatal) return { known: false };
  if (abortable) return { known: true };
  return typeof retriable === 'boolean' ? { flag: retriable } : {};
}

/** Node socket and DNS errors (DNS included: in a fresh compose network names appear late). */
const NODE_RETRY_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * PostgreSQL SQLSTATE classes that pass: connection exceptions (08), insufficient resources (53),
 * operator intervention such as a shutdown or a server starting (57P), serialization failures and
 * deadlocks (40), an object in use such as a replication slot still held by a previous walsender (55006).
 */
const PG_RETRY_PREFIXES = ['08', '53', '57P', '40'];
const PG_RETRY_CODES = new Set(['55006', '55P03']);

/** AWS SDK error names that pass whatever the status says. */
const AWS_RETRY_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ResourceInUseException',
]);

type Obj = Record<string, unknown>;

function asObj(err: unknown): Obj | undefined {
  return err !== null && typeof err === 'object' ? (err as Obj) : undefined;
}

/** The error and its causes, outermost first (bounded: cause chains can be cyclic). */
export function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && out.length < 8 && !out.includes(e); e = asObj(e)?.cause) out.push(e);
  return out;
}

interface Verdict {
  /** From the lists above: what the error is. */
  known?: boolean;
  /** From the library's own flag. */
  flag?: boolean;
}

/** One error, not its causes. */
function verdictOf(err: unknown): Verdict {
  const o = asObj(err);
  if (!o) return {};
  const errors = o.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const each = errors.map((x) => foreignErrorCanRetry(x));
    return each.includes(false) ? { known: false } : { known: true };
  }
  // Before the names: @confluentinc/kafka-javascript reuses kafkajs's error names with other meanings.
  const rdkafka = rdkafkaVerdict(o);
  if (rdkafka) return rdkafka;
  const name = typeof o.name === 'string' ? o.name : '';
  const code = typeof o.code === 'string' ? o.code : undefined;
  // Kafka protocol errors: kafkajs `type`.
  const kafkaType = typeof o.type === 'string' ? o.type : undefined;
  if (kafkaType && KAFKA_STOP_TYPES.has(kafkaType)) return { known: false };
  if (kafkaType && KAFKA_RETRY_TYPES.has(kafkaType)) return { known: true };
  if (KAFKAJS_STOP_NAMES.has(name)) return { known: false };
  if (KAFKAJS_RETRY_NAMES.has(name)) return { known: true };
  if (code && NODE_RETRY_CODES.has(code)) return { known: true };
  if (code && /^[0-9A-Z]{5}$/.test(code) && 'severity' in o) return { known: PG_RETRY_CODES.has(code) || PG_RETRY_PREFIXES.some((p) => code.startsWith(p)) };
  if (o.$retryable !== undefined || AWS_RETRY_NAMES.has(name)) return { known: true };
  const status = asObj(o.$metadata)?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429 || status === 408)) return { known: true };
  if (o.$fault === 'client' && typeof status === 'number' && status >= 400) return { known: false };
  if (typeof o.retriable === 'boolean') return { flag: o.retriable };
  if (typeof o.canRetry === 'boolean') return { flag: o.canRetry };
  return {};
}

/**
 * Whether a library's error is worth retrying; undefined when nothing in it says. Over the cause
 * chain: an error that must stop wins, then one known to pass (kafkajs wraps a passing cause in
 * "retries exceeded"), then the innermost library flag (as kafkajs itself decides a restart).
 * An aggregate passes only if all its errors do.
 */
export function foreignErrorCanRetry(err: unknown): boolean | undefined {
  const verdicts = causeChain(err).map(verdictOf);
  if (verdicts.some((v) => v.known === false)) return false;
  if (verdicts.some((v) => v.known === true)) return true;
  return verdicts.reverse().find((v) => v.flag !== undefined)?.flag;
}
