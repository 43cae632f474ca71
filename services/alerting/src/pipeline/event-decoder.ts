/**
 * A record's value as the document rules see. CDC change topics (the envelope of
 * `change-event.ts`) are seen whole: `op`, `before`, `after`, `source`, `ts_ms` at the top
 * level, so `filter: op == "c"` and `keyBy: after.policy_id` work. Plain JSON event topics are
 * seen as the object they are.
 */
import { ChangeEventError, parseChangeEvent, type IncomingMessage } from '@tideway/runtime';
import { RecordError } from '../errors';

export type EventDocument = Record<string, unknown>;

/** The document, or null for a tombstone (nothing to evaluate). Throws RecordError. */
export function decodeEvent(message: Pick<IncomingMessage, 'value'>): EventDocument | null {
  if (message.value === null || message.value.length === 0) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(message.value.toString('utf8'));
  } catch (err) {
    throw new RecordError('malformed_json', `value is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new RecordError('not_an_object', 'value is not a JSON object');
  const obj = doc as Record<string, unknown>;
  const wrapped = typeof obj.payload === 'object' && obj.payload !== null && 'schema' in obj;
  if (wrapped || ('op' in obj && 'source' in obj)) {
    try {
      const ev = parseChangeEvent(message.value);
      return { ...ev } as unknown as EventDocument;
    } catch (err) {
      if (err instanceof ChangeEventError) throw new RecordError(err.problem === 'malformed_json' ? 'malformed_json' : err.problem, err.message);
      throw err;
    }
  }
  return obj;
}
