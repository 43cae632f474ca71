/**
 * Writes one partition's transaction: its records in sends small enough for one record batch,
 * then the consumer offset, then the commit. A failed transaction is aborted before the failure
 * is passed on.
 */
import type { OutgoingMessage, ProducerTransaction, TopicPartitionOffset } from '@tideway/runtime';
import { approxSize } from './pending-transaction';
import { groupBySize } from './size-groups';

/** A send's records for one partition form one record batch, which must stay under the broker's message.max.bytes (1 MiB by default). */
export const MAX_SEND_BYTES = 256 * 1024;
/** The next transaction meets CONCURRENT_TRANSACTIONS until the last one's markers are written: retry that soon. */
export const TRANSACTIONAL_RETRY = { initialRetryTimeMs: 20, maxRetryTimeMs: 5000, retries: 12 };

/** Splits records into sends of at most `maxBytes` (a single larger record goes alone). */
export function chunkBySize(records: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  return groupBySize(records, approxSize, maxBytes);
}

export interface TransactionContent {
  records: OutgoingMessage[];
  /** Consumer offsets committed with the records, for `groupId`. */
  offsets: TopicPartitionOffset[];
  groupId: string;
}

/** `onAbortFailure` gets a failed abort (the transaction's own failure is rethrown either way). */
export async function commitTransaction(t: ProducerTransaction, content: TransactionContent, onAbortFailure: (err: unknown) => undefined): Promise<void> {
  try {
    for (const chunk of chunkBySize(content.records, MAX_SEND_BYTES)) await t.send(chunk);
    if (content.offsets.length > 0) await t.sendOffsets(content.groupId, content.offsets);
    await t.commit();
  } catch (err) {
    await t.abort().catch(onAbortFailure);
    throw err;
  }
}
