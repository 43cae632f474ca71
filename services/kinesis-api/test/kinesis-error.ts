import { KinesisApiError } from '../src/errors';

/** The KinesisApiError `fn` throws; fails the test when it throws nothing or something else. */
export function kinesisErrorOf(fn: () => unknown): KinesisApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KinesisApiError) return err;
    throw err;
  }
  throw new Error('expected a KinesisApiError');
}
