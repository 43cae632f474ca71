/** Errors `tideway demo` raises on purpose. */
import { TidewayError } from '@tideway/runtime';

/** The OLTP database cannot be reached or refused a write that may pass; the batch is retried. */
export class DatabaseUnavailable extends TidewayError {
  constructor(message: string, cause?: unknown) {
    super('CONNECTION_FAILED', message, { cause });
    this.name = 'DatabaseUnavailable';
  }
}
