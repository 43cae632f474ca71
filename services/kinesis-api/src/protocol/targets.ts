/** Which API and operation an `X-Amz-Target` header names. Pure. */
import { KinesisApiError } from '../errors';
import { FIREHOSE_TARGET_PREFIX } from './wire';

export type Api = 'kinesis' | 'firehose';

/** Firehose for its target prefix; Kinesis for anything else (whose unknown targets Kinesis's errors answer). */
export function apiOf(target: string | undefined): Api {
  return target?.startsWith(FIREHOSE_TARGET_PREFIX) ? 'firehose' : 'kinesis';
}

/** The operation of `target` among `served`; UnknownOperationException naming the served ones otherwise. */
export function servedOperation<const O extends string>(target: string | undefined, prefix: string, served: readonly O[]): O {
  const name = target?.startsWith(prefix) ? target.slice(prefix.length) : undefined;
  if (name !== undefined && (served as readonly string[]).includes(name)) return name as O;
  if (name === undefined)
    throw new KinesisApiError(
      'UnknownOperationException',
      `Expected an X-Amz-Target header of the form ${prefix}<Operation>, got ${target === undefined ? 'none' : `'${target}'`}`,
    );
  throw new KinesisApiError('UnknownOperationException', `Operation ${name} is not supported. Supported operations: ${served.join(', ')}`);
}
