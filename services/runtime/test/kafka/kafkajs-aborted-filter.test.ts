/**
 * kafkajs's read_committed filter as patched by patches/kafkajs+2.2.4.patch, on the cases the
 * original got wrong, and the guard that refuses an unpatched install.
 */
import { assertReadCommittedFilterPatched } from '../../src/kafka/kafkajs-client';

const filter = require('kafkajs/src/consumer/filterAbortedMessages') as (input: {
  messages: Record<string, unknown>[];
  abortedTransactions: Array<{ firstOffset: string; producerId: string }>;
}) => Array<{ offset: string }>;

const ABORT = Buffer.from([0, 0, 0, 0]);
const rec = (offset: number, producerId: string, inTransaction = true) => ({
  offset: String(offset),
  key: Buffer.from('k'),
  batchContext: { producerId, inTransaction },
});
const abortMarker = (offset: number, producerId: string) => ({
  offset: String(offset),
  key: ABORT,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});
const offsets = (ms: Array<{ offset: string }>) => ms.map((m) => Number(m.offset));

test('every aborted transaction begun before the first fetched record is active for it', () => {
  // a1 b1 | b2 a2 ✗a ✗b c — the fetch starts at 2, inside both.
  const messages = [rec(2, 'b'), rec(3, 'a'), abortMarker(4, 'a'), abortMarker(5, 'b'), rec(6, 'c', false)];
  const kept = filter({
    messages,
    abortedTransactions: [
      { firstOffset: '0', producerId: 'a' },
      { firstOffset: '1', producerId: 'b' },
    ],
  });
  expect(offsets(kept)).toEqual([4, 5, 6]); // markers are dropped later, as control records
});

test('the broker may list aborted transactions in any order', () => {
  const messages = [rec(5, 'a'), rec(6, 'b'), abortMarker(7, 'b'), abortMarker(8, 'a'), rec(9, 'b')];
  const kept = filter({
    messages,
    abortedTransactions: [
      { firstOffset: '4', producerId: 'b' },
      { firstOffset: '3', producerId: 'a' },
    ],
  });
  expect(offsets(kept)).toEqual([7, 8, 9]);
});

test('records after an abort marker, and of committed transactions, are kept', () => {
  const messages = [rec(0, 'a'), rec(1, 'b'), abortMarker(2, 'a'), rec(3, 'a'), rec(4, 'b')];
  const kept = filter({ messages, abortedTransactions: [{ firstOffset: '0', producerId: 'a' }] });
  expect(offsets(kept)).toEqual([1, 2, 3, 4]);
});

test('the installed kafkajs passes the guard read_committed consumers run', () => {
  expect(() => assertReadCommittedFilterPatched()).not.toThrow();
});
