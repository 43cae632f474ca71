import { BufferRoom, holdWhileFull, type HoldOptions } from '../src/buffer-room';

/** A sink's buffer the test fills and empties by hand. */
function buffer(initial: number) {
  let bytes = initial;
  const room = new BufferRoom(() => bytes);
  return {
    room,
    get bytes() {
      return bytes;
    },
    /** An answer freed `n` bytes. */
    free(n: number) {
      bytes -= n;
      room.changed();
    },
  };
}

function batch() {
  const b = { stale: false, running: true, heartbeats: 0 };
  return {
    b,
    view: { isStale: () => b.stale, isRunning: () => b.running, heartbeat: async () => void b.heartbeats++ },
  };
}

function options(buf: ReturnType<typeof buffer>, over: Partial<HoldOptions> = {}): HoldOptions {
  return {
    bufferedBytes: () => buf.bytes,
    bufferedAtMost: (mark) => buf.room.atMost(mark),
    maxBufferedBytes: 1000,
    running: () => true,
    signal: new AbortController().signal,
    tickMs: 100,
    onHeartbeatError: () => undefined,
    ...over,
  };
}

/** Lets promise callbacks run without moving the (fake) clock. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('BufferRoom', () => {
  it('wakes each waiter once the count is down to its mark, and not before', async () => {
    const buf = buffer(900);
    const woken: number[] = [];
    void buf.room.atMost(500).then(() => woken.push(500));
    void buf.room.atMost(200).then(() => woken.push(200));
    buf.free(300); // 600
    await settle();
    expect(woken).toEqual([]);
    buf.free(100); // 500
    await settle();
    expect(woken).toEqual([500]);
    buf.free(400); // 100
    await settle();
    expect(woken).toEqual([500, 200]);
    await expect(buf.room.atMost(100)).resolves.toBeUndefined();
  });
});

describe('holdWhileFull', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('returns at once below the bound', async () => {
    const buf = buffer(999);
    const { view } = batch();
    let done = false;
    void holdWhileFull(view, options(buf)).then(() => (done = true));
    await settle();
    expect(done).toBe(true);
  });

  it('holds above the bound and returns as soon as an answer brings the buffer down to half, without a timer', async () => {
    const buf = buffer(1200);
    const { view } = batch();
    const holding: boolean[] = [];
    let done = false;
    void holdWhileFull(view, options(buf, { onHold: (h) => holding.push(h) })).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    buf.free(600); // 600: still above half
    await settle();
    expect(done).toBe(false);
    buf.free(100); // 500: half
    await settle();
    // No timer was advanced: the freed bytes woke the handler.
    expect(done).toBe(true);
    expect(holding).toEqual([true, false]);
  });

  it('heartbeats while held, and lets go when its batch is revoked or the route stops', async () => {
    const buf = buffer(2000);
    const revoked = batch();
    let done = false;
    void holdWhileFull(revoked.view, options(buf)).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(350);
    expect(revoked.b.heartbeats).toBe(3);
    expect(done).toBe(false);
    revoked.b.stale = true;
    await jest.advanceTimersByTimeAsync(100);
    expect(done).toBe(true);

    let running = true;
    let stopped = false;
    void holdWhileFull(batch().view, options(buf, { running: () => running })).then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    running = false;
    await jest.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(true);
  });

  it('lets go at once when the service is stopping', async () => {
    const buf = buffer(2000);
    const stop = new AbortController();
    let done = false;
    void holdWhileFull(batch().view, options(buf, { signal: stop.signal })).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    stop.abort();
    await settle();
    expect(done).toBe(true);
  });
});
