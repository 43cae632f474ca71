/**
 * Whether an error raised by a client library (kafkajs, @platformatic/kafka, pg, the AWS SDK,
 * Node's sockets) is worth retrying, read from the data the libraries attach: kafkajs's
 * `retriable`, `type` and `name`, @platformatic/kafka's `canRetry` and `apiId`, PostgreSQL's
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
const KAFKA_RETRY_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_CONTROLLER', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'REBALANCE_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'KAFKA_STORAGE_ERROR', 'THROTTLING_QUOTA_EXCEEDED']);

/** kafkajs error classes by name: the ones to stop on, and the non-retriable ones that pass. */
const KAFKAJS_STOP_NAMES = new Set(['KafkaJSSASLAuthenticationError', 'KafkaJSServerDoesNotSupportApiKey', 'KafkaJSNotImplemented', 'KafkaJSUnsupportedMagicByteInMessageSet', 'KafkaJSInvariantViolation']);
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

/** @platformatic/kafka: a timeout or a lost connection passes whatever `canRetry` says. */
const PLATFORMATIC_RETRY_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

/** Node socket and DNS errors (DNS included: in a fresh compose network names appear late). */
const NODE_RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * PostgreSQL SQLSTATE classes that pass: connection exceptions (08), insufficient resources (53),
 * operator intervention such as a shutdown or a server starting (57P), serialization failures and
 * deadlocks (40), an object in use such as a replication slot still held by a previous walsender (55006).
 */
const PG_RETRY_PREFIXES = ['08', '53', '57P', '40'];
const PG_RETRY_CODES = new Set(['55006', '55P03']);

/** AWS SDK error names that pass whatever the status says. */
const AWS_RETRY_NAMES = new Set(['ThrottlingException', 'Throttling', 'ProvisionedThroughputExceededException', 'LimitExceededException', 'RequestLimitExceeded', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalError', 'SlowDown', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ResourceInUseException']);

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
  const name = typeof o.name === 'string' ? o.name : '';
  const code = typeof o.code === 'string' ? o.code : undefined;
  // Kafka protocol errors: kafkajs `type`, @platformatic/kafka `apiId`.
  const kafkaType = typeof o.type === 'string' ? o.type : typeof o.apiId === 'string' ? o.apiId : undefined;
  if (kafkaType && KAFKA_STOP_TYPES.has(kafkaType)) return { known: false };
  if (kafkaType && KAFKA_RETRY_TYPES.has(kafkaType)) return { known: true };
  if (KAFKAJS_STOP_NAMES.has(name) || code === 'PLT_KFK_AUTHENTICATION') return { known: false };
  if (KAFKAJS_RETRY_NAMES.has(name)) return { known: true };
  if (code && (PLATFORMATIC_RETRY_CODES.has(code) || NODE_RETRY_CODES.has(code))) return { known: true };
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
