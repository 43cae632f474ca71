/**
 * The errors the API answers, as Kinesis and Firehose name them (a closed list), each with its HTTP status.
 * They are answers to a client, not failures of the service, so they are not TidewayErrors:
 * nothing retries or stops on them; the HTTP layer turns them into the AWS error shape.
 */

export const KINESIS_ERRORS = {
  ResourceNotFoundException: 400,
  ResourceInUseException: 400,
  InvalidArgumentException: 400,
  ExpiredIteratorException: 400,
  ProvisionedThroughputExceededException: 400,
  LimitExceededException: 400,
  ValidationException: 400,
  /** The body is not valid JSON / CBOR, or a member has the wrong type. */
  SerializationException: 400,
  AccessDeniedException: 400,
  /** No Authorization header at all. */
  MissingAuthenticationTokenException: 400,
  /** The access key id is not one of the configured keys. */
  UnrecognizedClientException: 400,
  /** The Authorization header is malformed or lacks a part. */
  IncompleteSignatureException: 400,
  /** The signature does not match, or the request is dated too far from now. */
  InvalidSignatureException: 400,
  UnknownOperationException: 400,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  /** Firehose's name for ServiceUnavailable. */
  ServiceUnavailableException: 503,
} as const;

export type KinesisErrorName = keyof typeof KINESIS_ERRORS;

export const KINESIS_ERROR_NAMES = Object.keys(KINESIS_ERRORS) as KinesisErrorName[];

export class KinesisApiError extends Error {
  override readonly name: KinesisErrorName;

  constructor(name: KinesisErrorName, message: string) {
    super(message);
    this.name = name;
  }

  get status(): number {
    return KINESIS_ERRORS[this.name];
  }
}

export function isKinesisApiError(err: unknown): err is KinesisApiError {
  return err instanceof KinesisApiError;
}

/** Shorthands for the errors raised most often. */
export const invalidArgument = (message: string) => new KinesisApiError('InvalidArgumentException', message);
export const validationError = (message: string) => new KinesisApiError('ValidationException', message);
export const resourceNotFound = (message: string) => new KinesisApiError('ResourceNotFoundException', message);

/** An error as the Firehose API names it: Kafka's transient failures are its ServiceUnavailableException. */
export function asFirehoseError(err: unknown): unknown {
  return isKinesisApiError(err) && err.name === 'ServiceUnavailable' ? new KinesisApiError('ServiceUnavailableException', err.message) : err;
}
