import { KINESIS_ERROR_NAMES, KinesisApiError, isKinesisApiError } from '../src/errors';

describe('Kinesis errors', () => {
  it('are client errors (400) but for InternalFailure (500) and ServiceUnavailable (503)', () => {
    const statuses = Object.fromEntries(KINESIS_ERROR_NAMES.map((n) => [n, new KinesisApiError(n, 'x').status]));
    expect(Object.entries(statuses).filter(([, s]) => s !== 400)).toEqual([
      ['InternalFailure', 500],
      ['ServiceUnavailable', 503],
    ]);
  });

  it('carry their Kinesis name and message', () => {
    const err = new KinesisApiError('ResourceNotFoundException', 'Stream x under account 000000000000 not found.');
    expect([err.name, err.message, isKinesisApiError(err), isKinesisApiError(new Error('x'))]).toEqual([
      'ResourceNotFoundException',
      'Stream x under account 000000000000 not found.',
      true,
      false,
    ]);
  });
});
