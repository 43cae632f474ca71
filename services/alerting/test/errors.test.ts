import { canRetry, ERROR_CODES } from '@tideway/runtime';
import { NotifierError } from '../src/errors';
import { isRetriableStatus } from '../src/notify/payloads';

describe('NotifierError: a webhook refusal, retried or not as its code says', () => {
  it.each([
    [503, 'DELIVERY_FAILED', true],
    [429, 'DELIVERY_FAILED', true],
    [404, 'DELIVERY_REJECTED', false],
    [400, 'DELIVERY_REJECTED', false],
  ] as const)('HTTP %d → %s', (status, code, retried) => {
    const err = new NotifierError(`HTTP ${status}`, isRetriableStatus(status));
    expect(err.code).toBe(code);
    expect(canRetry(err)).toBe(retried);
    expect(ERROR_CODES[err.code].canRetry).toBe(retried);
  });
});
