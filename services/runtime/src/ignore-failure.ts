/**
 * A catch handler for failures that are deliberately not propagated (closing a connection on the way
 * out, a best-effort abort): the failure is logged instead of vanishing. `debug` for what only matters
 * when tracing a problem; `warn` for what an operator should see.
 */
import { errorMessage } from './errors';

export type IgnoredFailureLevel = 'debug' | 'warn';
/** The part of a pino logger this needs. */
export type FailureLogger = Record<IgnoredFailureLevel, (obj: Record<string, unknown>, msg: string) => void>;

export function ignoreFailure(
  logger: FailureLogger,
  doing: string,
  context: Record<string, unknown> = {},
  level: IgnoredFailureLevel = 'debug',
): (err: unknown) => undefined {
  return (err: unknown) => {
    logger[level]({ ...context, err: errorMessage(err) }, `${doing} failed; ignored`);
    return undefined;
  };
}
