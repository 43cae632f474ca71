import { createLogger, Registry } from '@tideway/runtime';
import { BatchSender, type BatchSenderOptions } from '../src/batch-sender';
import type { BatchLimits, Unit, UnitOutcome } from '../src/key-ordered-retry-queue';
import { BridgeMetrics } from '../src/metrics';
import type { BridgeRecord, RecordOutcomes } from '../src/sink';
import { OffsetTracker } from '../src/offset-tracker';

/** A request the test answers by hand. */
interface Call {
  keys: string[];
  answer: (outcomes?: UnitOutcome[]) => void;
  fail: (err: Error) => void;
}

function record(key: string, offset: number): BridgeRecord {
  const message = { topic: 't', partition: 0, offset: String(offset), key: Buffer.from(key), value: Buffer.from('v'), headers: {}, timestamp: 0 };
  return { message, token: new OffsetTracker().track('t', 0, String(offset)), data: message.value, readAt: 0 };
}

function sender(options: { maxInFlight: number; limits?: Partial<BatchLimits>; backoffMs?: number; bufferShrunk?: () => void }) {
  const calls: Call[] = [];
  const delivered: string[] = [];
  const outcomes: RecordOutcomes = {
    delivered: (rs) => delivered.push(...rs.map((r) => String(r.message.key))),
    finished: () => undefined,
    deadLetter: () => undefined,
    destinationHealthy: () => undefined,
    bufferShrunk: () => options.bufferShrunk?.(),
  };
  const o: BatchSenderOptions = {
    route: 'r',
    maxInFlight: options.maxInFlight,
    backoff: { initialMs: options.backoffMs ?? 100, maxMs: options.backoffMs ?? 100, multiplier: 2 },
    logger: createLogger('bridge', 'silent'),
    metrics: new BridgeMetrics(new Registry()),
    outcomes,
    limits: () => ({ maxUnits: 500, maxBytes: 5 * 1024 * 1024, unitMaxRecords: 1, unitMaxBytes: 1024 * 1024, ...options.limits }),
    send: (units: readonly Unit<BridgeRecord>[]) =>
      new Promise<UnitOutcome[]>((resolve, reject) => {
        calls.push({ keys: units.map((u) => u.key), answer: (a) => resolve(a ?? units.map(() => ({ ok: true }))), fail: reject });
      }),
  };
  const s = new BatchSender(o);
  let offset = 0;
  const submit = (...keys: string[]) => {
    for (const key of keys) s.queue.enqueue({ key, bytes: 10, payload: record(key, offset++), enqueuedAt: 0 });
    s.pump();
  };
  return { s, calls, delivered, submit };
}

/** Lets promise callbacks run without moving the (fake) clock. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('BatchSender', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('sends a waiting batch as soon as an in-flight request is answered, without a timer', async () => {
    const { s, calls, submit } = sender({ maxInFlight: 1, limits: { maxUnits: 2 } });
    submit('a', 'b', 'c', 'd');
    expect(calls.map((c) => c.keys)).toEqual([['a', 'b']]);
    calls[0].answer();
    await settle();
    // No timer advanced: the answer itself takes the next batch.
    expect(calls.map((c) => c.keys)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    s.close();
  });

  it('sends keys the rate limiter refused when it says they fit, not at a fixed poll', async () => {
    const openAt = Date.now() + 7;
    const { s, calls, submit } = sender({
      maxInFlight: 4,
      limits: { admit: () => Date.now() >= openAt, admitAt: () => openAt },
    });
    submit('a');
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(6);
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    s.close();
  });

  it('a refused key is looked at again when the limiter allows it, even while a later retry is due', async () => {
    // Full jitter at its top: the failed key's retry is due in ~10 s.
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    let openAt = Infinity;
    const { s, calls, delivered, submit } = sender({
      maxInFlight: 4,
      backoffMs: 10_000,
      limits: { admit: (key) => key !== 'b' || Date.now() >= openAt, admitAt: () => openAt },
    });
    submit('a');
    calls[0].fail(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' }));
    await settle();
    // 'a' now waits ~10 s for its retry; 'b' is refused for 5 ms.
    openAt = Date.now() + 5;
    submit('b');
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(5);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    calls[1].answer();
    await settle();
    expect(delivered).toEqual(['b']);
    // The retry of 'a' still comes at its own time.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b'], ['a']]);
    s.close();
  });

  it('tells its owner when an answer has freed bytes', async () => {
    let answered = 0;
    const { calls, submit, s } = sender({ maxInFlight: 1, bufferShrunk: () => answered++ });
    submit('a');
    expect(s.bytes).toBe(10);
    calls[0].answer();
    await settle();
    expect(answered).toBe(1);
    expect(s.bytes).toBe(0);
    s.close();
  });
});
