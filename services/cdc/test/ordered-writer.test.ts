import { createLogger, type DeliveryReport, type OutgoingMessage, type Producer } from '@tideway/runtime';
import { batchLength, OrderedKafkaWriter, recordSize } from '../src/ordered-writer';

const rec = (value: string): OutgoingMessage => ({ topic: 't', key: 'k', value });

/** A producer double whose sends complete only when the test says so (no I/O). */
class ControlledProducer implements Producer {
  readonly sends: OutgoingMessage[][] = [];
  private pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  connect = async () => undefined;
  disconnect = async () => undefined;
  isConnected = () => true;
  transaction(): never {
    throw new Error('unused');
  }
  send(messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    this.sends.push(messages);
    return new Promise((resolve, reject) => this.pending.push({ resolve: () => resolve([]), reject }));
  }
  complete(err?: Error) {
    const p = this.pending.shift()!;
    if (err) p.reject(err);
    else p.resolve();
  }
  get inFlight() {
    return this.pending.length;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('batchLength', () => {
  it('bounds a send by records and by bytes, and always takes at least one record', () => {
    const q = [rec('a'.repeat(100)), rec('b'.repeat(100)), rec('c'.repeat(100))];
    expect(batchLength(q, 2, 1_000_000)).toBe(2);
    expect(batchLength(q, 10, recordSize(q[0]) * 2)).toBe(2);
    expect(batchLength(q, 10, 10)).toBe(1);
  });
});

describe('OrderedKafkaWriter', () => {
  it('keeps one send in flight, batches what accumulated, and reports positions only once acknowledged', async () => {
    const producer = new ControlledProducer();
    const safe: bigint[] = [];
    const w = new OrderedKafkaWriter(producer, {
      maxBatchRecords: 100,
      maxBatchBytes: 1_000_000,
      maxBufferedRecords: 1000,
      signal: new AbortController().signal,
      logger: createLogger('test', 'silent'),
      onSafe: (lsn) => safe.push(lsn),
    });
    w.push([rec('1')]);
    w.markSafeAfterPushed(10n, 1);
    w.push([rec('2'), rec('3')]);
    w.markSafeAfterPushed(20n, 2);
    expect(producer.sends.map((b) => b.map((m) => m.value))).toEqual([['1']]);
    expect(safe).toEqual([]);
    producer.complete();
    await flush();
    expect(safe).toEqual([10n]);
    expect(producer.sends.map((b) => b.map((m) => m.value))).toEqual([['1'], ['2', '3']]);
    producer.complete();
    await flush();
    expect(safe).toEqual([10n, 20n]);
    expect(w.buffered).toBe(0);
  });

  it('resends a failed batch before anything after it, and confirms nothing until it succeeds', async () => {
    const producer = new ControlledProducer();
    const safe: bigint[] = [];
    const w = new OrderedKafkaWriter(producer, {
      maxBatchRecords: 100,
      maxBatchBytes: 1_000_000,
      maxBufferedRecords: 1000,
      signal: new AbortController().signal,
      logger: createLogger('test', 'silent'),
      onSafe: (lsn) => safe.push(lsn),
    });
    w.push([rec('1')]);
    w.markSafeAfterPushed(10n);
    w.push([rec('2')]);
    producer.complete(new Error('broker gone'));
    for (let i = 0; i < 50 && producer.sends.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(producer.sends.map((b) => b.map((m) => m.value))).toEqual([['1'], ['1']]);
    expect(safe).toEqual([]);
    producer.complete();
    await flush();
    expect(safe).toEqual([10n]);
    expect(producer.sends[2].map((m) => m.value)).toEqual(['2']);
  });

  it('makes waitForCapacity wait while the buffer is full', async () => {
    const producer = new ControlledProducer();
    const w = new OrderedKafkaWriter(producer, {
      maxBatchRecords: 100,
      maxBatchBytes: 1_000_000,
      maxBufferedRecords: 2,
      signal: new AbortController().signal,
      logger: createLogger('test', 'silent'),
      onSafe: () => undefined,
    });
    w.push([rec('1'), rec('2')]);
    let released = false;
    const waiting = w.waitForCapacity().then(() => (released = true));
    await flush();
    expect(released).toBe(false);
    producer.complete();
    await waiting;
    expect(released).toBe(true);
  });

  it('reports a send that is not acknowledged in time as stalled, once, and not a quick one', async () => {
    jest.useFakeTimers();
    try {
      const producer = new ControlledProducer();
      let stalled = 0;
      const w = new OrderedKafkaWriter(producer, {
        maxBatchRecords: 100,
        maxBatchBytes: 1_000_000,
        maxBufferedRecords: 1000,
        signal: new AbortController().signal,
        logger: createLogger('test', 'silent'),
        onSafe: () => undefined,
        onSendStalled: () => stalled++,
        stalledAfterMs: 1000,
      });
      w.push([rec('1')]);
      jest.advanceTimersByTime(500);
      producer.complete();
      await Promise.resolve();
      await Promise.resolve();
      jest.advanceTimersByTime(5000);
      expect(stalled).toBe(0);
      w.push([rec('2')]);
      jest.advanceTimersByTime(999);
      expect(stalled).toBe(0);
      jest.advanceTimersByTime(5000);
      expect(stalled).toBe(1);
      producer.complete();
    } finally {
      jest.useRealTimers();
    }
  });
});
