import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { canRetry, ConfigError, TidewayError } from '../src/errors';

// kafkajs builds protocol errors from its table of codes; the same table, by code.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): KafkaJSProtocolError };
const protocol = (code: number) => new KafkaJSProtocolError(createErrorFromCode(code));
// An optional dependency (a native build): loaded, not imported, so type-checking does not need it.
const Ck = require('@confluentinc/kafka-javascript').KafkaJS as Record<string, unknown>;
/** kafkajs's typings omit the options argument its constructors take (cause, retry counts). */
const make = (C: unknown, ...args: unknown[]): Error => new (C as new (...a: unknown[]) => Error)(...args);
/** @confluentinc/kafka-javascript's errors carry librdkafka's code and flags (its classes take them as properties). */
const rdkafka = (C: unknown, code: number, flags: { fatal?: boolean; retriable?: boolean; abortable?: boolean } = {}): Error =>
  make(C, `librdkafka ${code}`, { code, ...flags });
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code, severity: 'FATAL' });
const awsError = (name: string, status: number, fault: 'client' | 'server', extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status }, ...extra });

describe('canRetry: the retry-or-stop decision, from the error alone', () => {
  it.each<[string, unknown, boolean]>([
    ['UNKNOWN_TOPIC_OR_PARTITION (a topic still propagating)', protocol(3), true],
    ['LEADER_NOT_AVAILABLE', protocol(5), true],
    ['kafkajs retries exhausted on a retriable cause', make(KafkaJSNumberOfRetriesExceeded, protocol(3), { retryCount: 5, retryTime: 1000 }), true],
    ['kafkajs non-retriable wrapper around a transient cause', make(KafkaJSNonRetriableError, protocol(3), { cause: protocol(3) }), true],
    ['group coordinator not found (kafkajs flags it non-retriable)', make(KafkaJSGroupCoordinatorNotFound, 'no coordinator'), true],
    ['connection refused', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), true],
    ['fenced by a newer instance (INVALID_PRODUCER_EPOCH)', protocol(47), false],
    ['fenced, wrapped in retries exhausted', make(KafkaJSNumberOfRetriesExceeded, protocol(47), { retryCount: 5, retryTime: 1000 }), false],
    ['topic authorization failed', protocol(29), false],
    ['SASL authentication failed', make(KafkaJSSASLAuthenticationError, 'bad password'), false],
    ['topic already exists for all, as an aggregate', make(KafkaJSAggregateError, 'x', [Object.assign(protocol(36), { topic: 't' })]), false],
    ['an aggregate of transient errors', make(KafkaJSAggregateError, 'x', [protocol(3), protocol(5)]), true],
    ['librdkafka: fenced producer (ERR__FENCED, fatal)', rdkafka(Ck.KafkaJSError, -144, { fatal: true }), false],
    ['librdkafka: fenced producer (ERR__FENCED) without the fatal flag', rdkafka(Ck.KafkaJSError, -144), false],
    ['librdkafka: PRODUCER_FENCED from the broker', rdkafka(Ck.KafkaJSProtocolError, 90), false],
    ['librdkafka: INVALID_PRODUCER_EPOCH, abortable', rdkafka(Ck.KafkaJSProtocolError, 47, { abortable: true }), false],
    ['librdkafka: idempotence state lost (fatal OUT_OF_ORDER_SEQUENCE_NUMBER)', rdkafka(Ck.KafkaJSProtocolError, 45, { fatal: true }), false],
    ['librdkafka: SASL authentication (named as kafkajs names it)', rdkafka(Ck.KafkaJSSASLAuthenticationError, -169), false],
    ['librdkafka: topic authorization failed', rdkafka(Ck.KafkaJSProtocolError, 29), false],
    ['librdkafka: message timed out in the queue (flagged non-retriable)', rdkafka(Ck.KafkaJSError, -192), true],
    ['librdkafka: broker transport failure', rdkafka(Ck.KafkaJSConnectionError, -195), true],
    ['librdkafka: all brokers down', rdkafka((Ck as unknown as Record<string, unknown>).KafkaJSNoBrokerAvailableError, -187), true],
    ['librdkafka: local timeout', rdkafka(Ck.KafkaJSTimeout, -185), true],
    ['librdkafka: unknown topic or partition', rdkafka(Ck.KafkaJSProtocolError, 3), true],
    ['librdkafka: the group rebalanced under sendOffsets (ILLEGAL_GENERATION, abortable)', rdkafka(Ck.KafkaJSProtocolError, 22, { abortable: true }), true],
    ['librdkafka: abortable transaction error', rdkafka(Ck.KafkaJSError, -172, { abortable: true }), true],
    ['librdkafka: retriable transaction error', rdkafka(Ck.KafkaJSError, -172, { retriable: true }), true],
    ['librdkafka: invalid argument', rdkafka(Ck.KafkaJSError, -186), false],
    [
      'node-rdkafka error (isFatal/isRetriable), transport',
      Object.assign(new Error('transport'), { code: -195, isFatal: false, isRetriable: false, isTxnRequiresAbort: false }),
      true,
    ],
    [
      'node-rdkafka error (isFatal/isRetriable), fenced',
      Object.assign(new Error('fenced'), { code: -144, isFatal: true, isRetriable: false, isTxnRequiresAbort: false }),
      false,
    ],
    ['PostgreSQL connection failure (08006)', pgError('08006'), true],
    ['PostgreSQL shutting down (57P01)', pgError('57P01'), true],
    ['PostgreSQL starting up (57P03)', pgError('57P03'), true],
    ['PostgreSQL slot still held by a previous walsender (55006)', pgError('55006'), true],
    ['PostgreSQL password rejected (28P01)', pgError('28P01'), false],
    ['PostgreSQL database missing (3D000)', pgError('3D000'), false],
    ['socket refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['AWS 503', awsError('ServiceUnavailable', 503, 'server'), true],
    ['AWS throttling', awsError('ProvisionedThroughputExceededException', 400, 'client'), true],
    ['AWS retryable flag', awsError('Whatever', 400, 'client', { $retryable: {} }), true],
    ['AWS access denied', awsError('AccessDeniedException', 403, 'client'), false],
    ['TidewayError CONNECTION_FAILED', new TidewayError('CONNECTION_FAILED', 'x'), true],
    ['TidewayError STATE_LOST', new TidewayError('STATE_LOST', 'slot lost'), false],
    ['ConfigError', new ConfigError('X', 'bad'), false],
    ['an unknown error from I/O', new Error('Connection terminated unexpectedly'), true],
  ])('%s → %s', (_what, err, expected) => {
    expect(canRetry(err)).toBe(expected);
  });
});
