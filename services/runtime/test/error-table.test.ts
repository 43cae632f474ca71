/** Retriability and exit code come from the runtime's error table alone: one code, one answer. */
import { canRetry, ERROR_CODES, TidewayError, type ErrorCode, type TidewayErrorOptions } from '../src/errors';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

it.each(CODES)('%s: canRetry and exit code are the table row', (code) => {
  const err = new TidewayError(code, 'x');
  expect({ canRetry: canRetry(err), exitCode: err.exitCode }).toEqual(ERROR_CODES[code]);
});

it.each(CODES)('%s: an error cannot claim another retriability than its code', (code) => {
  const claim = { canRetry: !ERROR_CODES[code].canRetry } as TidewayErrorOptions;
  expect(canRetry(new TidewayError(code, 'x', claim))).toBe(ERROR_CODES[code].canRetry);
});
