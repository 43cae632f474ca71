import { KINESIS_ERROR_NAMES, KinesisApiError, asFirehoseError, isKinesisApiError } from '../src/errors';

describe('Kinesis errors', () => {
  it('are client errors (400) but for InternalFailure (500) and ServiceUnavailable (503, Firehose: ServiceUnavailableException)', () => {
    const statuses = Object.fromEntries(KINESIS_ERROR_NAMES.map((n) => [n, new KinesisApiError(n, 'x').status]));
    expect(Object.entries(statuses).filter(([, s]) => s !== 400)).toEqual([
      ['InternalFailure', 500],
      ['ServiceUnavailable', 503],
      ['ServiceUnavailableException', 503],
    ]);
  });

  it('answer Firehose requests with Firehose names: ServiceUnavailable is ServiceUnavailableException', () => {
    const unavailable = asFirehoseError(new KinesisApiError('ServiceUnavailable', 'Kafka is down')) as KinesisApiError;
    expect([unavailable.name, unavailable.message, unavailable.status]).toEqual(['ServiceUnavailableException', 'Kafka is down', 503]);
    const notFound = new KinesisApiError('ResourceNotFoundException', 'x');
    expect(asFirehoseError(notFound)).toBe(notFound);
    const bug = new Error('bug');
    expect(asFirehoseError(bug)).toBe(bug);
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
