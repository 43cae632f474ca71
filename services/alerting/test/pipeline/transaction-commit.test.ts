import type { OutgoingMessage, ProducerTransaction } from '@tideway/runtime';
import { chunkBySize, commitTransaction, MAX_SEND_BYTES } from '../../src/pipeline/transaction-commit';

describe('chunkBySize', () => {
  it('keeps each send under the byte bound, in order, and a lone oversize record alone', () => {
    const rec = (n: number, i: number) => ({ topic: 't', key: String(i), value: 'x'.repeat(n) });
    const records = [rec(100, 0), rec(100, 1), rec(100, 2), rec(1000, 3), rec(10, 4)];
    const chunks = chunkBySize(records, 400);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['0', '1'], ['2'], ['3'], ['4']]);
    expect(chunks.flat()).toEqual(records);
  });
});

function recordingTransaction(fail: { step?: 'send' | 'offsets' | 'commit'; abort?: boolean } = {}) {
  const calls: string[] = [];
  const step = (name: string, failing: boolean) => async () => {
    calls.push(name);
    if (failing) throw new Error(`${name} failed`);
  };
  const t: ProducerTransaction = {
    send: async (m: OutgoingMessage[]) => step(`send ${m.length}`, fail.step === 'send')(),
    sendOffsets: async (_g, o) => step(`offsets ${o.map((x) => x.offset).join(',')}`, fail.step === 'offsets')(),
    commit: step('commit', fail.step === 'commit'),
    abort: step('abort', fail.abort === true),
  };
  return { t, calls };
}

describe('commitTransaction', () => {
  const big = (i: number) => ({ topic: 'out', key: String(i), value: 'x'.repeat(MAX_SEND_BYTES / 2) });
  const content = { records: [big(0), big(1), big(2)], offsets: [{ topic: 'in', partition: 0, offset: '42' }], groupId: 'g' };

  it('sends the records in bounded sends, then the offsets, then commits', async () => {
    const { t, calls } = recordingTransaction();
    await commitTransaction(t, content, () => undefined);
    expect(calls).toEqual(['send 1', 'send 1', 'send 1', 'offsets 42', 'commit']);
  });

  it('sends no offsets when there are none', async () => {
    const { t, calls } = recordingTransaction();
    await commitTransaction(t, { ...content, records: [big(0)], offsets: [] }, () => undefined);
    expect(calls).toEqual(['send 1', 'commit']);
  });

  it('aborts a failed transaction and passes its failure on', async () => {
    const { t, calls } = recordingTransaction({ step: 'commit' });
    await expect(commitTransaction(t, content, () => undefined)).rejects.toThrow('commit failed');
    expect(calls.slice(-2)).toEqual(['commit', 'abort']);
  });

  it('hands a failed abort to its handler and still passes on the transaction failure', async () => {
    const { t } = recordingTransaction({ step: 'send', abort: true });
    const abortFailures: unknown[] = [];
    await expect(commitTransaction(t, content, (err) => void abortFailures.push(err))).rejects.toThrow('send 1 failed');
    expect(abortFailures.map((e) => (e as Error).message)).toEqual(['abort failed']);
  });
});
