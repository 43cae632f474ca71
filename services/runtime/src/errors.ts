/**
 * One base class for every error Tideway raises on purpose, with a closed list of codes.
 * Whether an error is worth retrying is data (`canRetry`), not guessed from message text,
 * so retry loops and exit-code decisions read the same table.
 */
import { foreignErrorCanRetry } from './foreign-errors';

export const ERROR_CODES = {
  /** A setting, config file, routes file or rules file is invalid. Fix the input: exit 2. */
  CONFIG_INVALID: { canRetry: false, exitCode: 2 },
  /** A dependency (Kafka, PostgreSQL, an AWS endpoint) cannot be reached right now. */
  CONNECTION_FAILED: { canRetry: true, exitCode: 1 },
  /** Something the service needs does not exist yet (a topic, a stream, a bucket): waited for, retried. */
  RESOURCE_MISSING: { canRetry: true, exitCode: 1 },
  /** A dependency exists but is set up so that the service cannot work (e.g. wal_level). */
  DEPENDENCY_MISCONFIGURED: { canRetry: false, exitCode: 2 },
  /** A record cannot be processed; it belongs in a dead-letter topic, the stream goes on. */
  RECORD_INVALID: { canRetry: false, exitCode: 1 },
  /** A destination refused or throttled a write that may succeed later. */
  DELIVERY_FAILED: { canRetry: true, exitCode: 1 },
  /** A destination refused a write for good (e.g. an HTTP 4xx): sending it again cannot help. */
  DELIVERY_REJECTED: { canRetry: false, exitCode: 1 },
  /** State the service relies on is gone or unusable (e.g. an invalidated replication slot). */
  STATE_LOST: { canRetry: false, exitCode: 1 },
  /** Shutdown did not finish within its bound. */
  SHUTDOWN_TIMEOUT: { canRetry: false, exitCode: 1 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TidewayErrorOptions {
  cause?: unknown;
  /** Kafka coordinates of the record concerned, when there is one. */
  topic?: string;
  partition?: number;
  offset?: string;
}

export class TidewayError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;

  constructor(code: ErrorCode, message: string, options: TidewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TidewayError';
    this.code = code;
    // The table is the only source: a different retriability is a different code.
    this.canRetry = ERROR_CODES[code].canRetry;
    this.topic = options.topic;
    this.partition = options.partition;
    this.offset = options.offset;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

/** A bad setting or input file. `setting` is what the one-line message names first. */
export class ConfigError extends TidewayError {
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super('CONFIG_INVALID', `${setting}: ${problem}`);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

export function isTidewayError(err: unknown): err is TidewayError {
  return err instanceof TidewayError;
}

/**
 * The one retry-or-stop decision, a pure function of the error: a TidewayError says so itself;
 * a client library's error is read by `foreignErrorCanRetry` (flags, protocol types, SQLSTATE,
 * HTTP status); anything else is retried, since unknown errors from I/O are usually transient.
 */
export function canRetry(err: unknown): boolean {
  if (isTidewayError(err)) return err.canRetry;
  return foreignErrorCanRetry(err) ?? true;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
