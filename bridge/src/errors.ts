/**
 * Why the bridge rejects a record or a destination (a closed list). Record reasons are the
 * `tideway.dlq.reason` header and the `reason` label of `tideway_dlq_records_total`.
 */
import { TidewayError } from '@tideway/runtime';

export const DLQ_REASONS = {
  /** The record (after the transform) is over the destination's per-record size limit. */
  tooLarge: 'record-too-large',
  /** The route's transform returned ProcessingFailed for it (or threw). */
  transformFailed: 'transform-failed',
  /** OpenSearch refused the document for good (a mapping conflict, another 4xx). */
  documentRejected: 'document-rejected',
} as const;

export type DlqReason = (typeof DLQ_REASONS)[keyof typeof DLQ_REASONS];

/** The destination (stream, delivery stream, bucket) does not exist and was not to be created. */
export class DestinationMissingError extends TidewayError {
  constructor(route: string, what: string) {
    super('RESOURCE_MISSING', `route "${route}": ${what} does not exist (create it, or ask the route to create it)`);
    this.name = 'DestinationMissingError';
  }
}

/** Error names AWS uses for "slow down". */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailableException',
  // OpenSearch: a full write queue (es_rejected_execution_exception) or a circuit breaker.
  'HTTP429',
]);

export function isThrottling(code: string): boolean {
  return THROTTLING.has(code);
}

/** Error codes as metric labels: a bounded set, everything else is `other`. */
const KNOWN_CODES = new Set([
  ...THROTTLING,
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ResourceNotFoundException',
  'ResourceInUseException',
  'ValidationException',
  'AccessDeniedException',
  'AccessDenied',
  'InvalidArgumentException',
  'KMSThrottlingException',
  'NoSuchBucket',
  'PreconditionFailed',
  'NetworkError',
  'TimeoutError',
  'HTTP5xx',
]);

export function errorCodeLabel(code: string): string {
  return KNOWN_CODES.has(code) ? code : 'other';
}

/** The AWS error code of an SDK error (or a network failure). */
export function awsErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) return 'NetworkError';
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'TimeoutError';
  const name = e?.Code ?? e?.name;
  if (name && name !== 'Error' && !/^(Unknown|\d+)/.test(name)) return name;
  if (status && status >= 500) return 'HTTP5xx';
  return name ?? 'other';
}

/** Whole-call errors after which the destination cannot work until someone acts. */
export function needsOperator(code: string): boolean {
  return ['ResourceNotFoundException', 'NoSuchBucket', 'AccessDeniedException', 'AccessDenied', 'ValidationException', 'InvalidArgumentException'].includes(
    code,
  );
}
