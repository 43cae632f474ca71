/**
 * Groupless reads at exact offsets over librdkafka's low-level consumer (the library's
 * `KafkaConsumer`): a small pool of connections, each serving one read at a time by assigning
 * itself the partition at the offset and consuming. A connection stays on its partition after a
 * read, with the records it fetched ahead, so a reader going through a partition in order (the
 * next read starts where the last ended) is served from memory; other reads reposition the least
 * recently used idle connection. librdkafka needs a `group.id` for this consumer, but with no
 * subscribe and no commit it never joins the group nor writes offsets.
 */
import { randomUUID } from 'node:crypto';
import { sleep } from '../backoff';
import { TidewayError } from '../errors';
import { pickSlot, takeWithin, type SlotState } from './partition-read';
import type { IncomingMessage, PartitionRead, PartitionReader, PartitionReaderOptions, PartitionReadResult } from './types';

/* eslint-disable @typescript-eslint/no-explicit-any */
const { KafkaConsumer } = require('@confluentinc/kafka-javascript') as { KafkaConsumer: any };

interface RdMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: Array<Record<string, Buffer>>;
}

/** Bound on connecting and on a watermark query (callers retry a read that failed). */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long a read below the end waits for its first record: records are known to be there. */
const DATA_WAIT_MS = 10_000;
/** One consume call's wait, so that reaching the end (EOF) is noticed between calls. */
const CONSUME_SLICE_MS = 100;

function toIncoming(m: RdMessage): IncomingMessage {
  const headers: Record<string, Buffer | undefined> = {};
  for (const h of m.headers ?? []) {
    for (const [k, v] of Object.entries(h)) if (!(k in headers)) headers[k] = v;
  }
  return { topic: m.topic, partition: m.partition, offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, headers, timestamp: m.timestamp };
}

const callback = <T>(run: (cb: (err: unknown, v: T) => void) => void) => new Promise<T>((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v))));

class Slot implements SlotState {
  busy = false;
  at?: { topic: string; partition: number; next: string };
  lastUsed = 0;
  private c?: any;
  /** Records consumed but not returned yet (a read's bound cut them), from `at.next` on. */
  private ahead: RdMessage[] = [];
  /** Where the consumer last reached the end of its partition (librdkafka's partition EOF), since its assignment. */
  private eofAt?: number;
  /** The assigned partition whose fetching is paused (it reached its end). */
  private paused?: { topic: string; partition: number };
  /** Set by close: a read in progress ends at its next consume call with what it has. */
  stopping = false;

  constructor(private readonly conf: Record<string, unknown>) {}

  private async consumer(): Promise<any> {
    if (this.c) return this.c;
    const c = new KafkaConsumer(this.conf, {});
    await callback((cb) => c.connect({ timeout: REQUEST_TIMEOUT_MS }, cb));
    c.setDefaultIsTimeoutOnlyForFirstMessage(true);
    c.on('partition.eof', (e: { topic: string; partition: number; offset: number }) => {
      if (this.at?.topic === e.topic && this.at.partition === e.partition) this.eofAt = e.offset;
    });
    this.c = c;
    return c;
  }

  async read(r: PartitionRead, ends: (c: any) => Promise<{ low: number; high: number }>): Promise<PartitionReadResult> {
    const c = await this.consumer();
    const requested = Number(r.offset);
    const continuing = this.at?.topic === r.topic && this.at.partition === r.partition && this.at.next === r.offset;
    // A repositioning asks the broker, so that records deleted meanwhile move the start.
    let wm = continuing ? this.cachedEnds(c, r) : undefined;
    // A connection paused at the end knows the ends of its last fetch only: at or past them, ask
    // the broker, or records written since would stay unseen by a read that does not wait.
    if (wm === undefined || requested >= wm.high) wm = await ends(c);
    if (requested > wm.high) {
      // Assigning past the end would make librdkafka restart at the earliest offset.
      return { messages: [], nextOffset: r.offset, highWatermark: String(wm.high), logStartOffset: String(wm.low) };
    }
    // Below the log start, reading starts at the log start (records deleted by retention or on request).
    const start = Math.max(requested, wm.low);
    if (!continuing) {
      this.ahead = [];
      this.resume(c);
      c.assign([{ topic: r.topic, partition: r.partition, offset: start }]);
      this.eofAt = undefined;
      this.at = { topic: r.topic, partition: r.partition, next: String(start) };
    }
    // Records below the end seen now are there to read (or skipped: markers, aborted records):
    // the read waits for them, so that it answers as many as its bounds allow.
    const end = wm.high;
    const deadline = Date.now() + (start < end ? Math.max(r.maxWaitMs ?? 500, DATA_WAIT_MS) : (r.maxWaitMs ?? 500));
    const maxRecords = Math.max(1, r.maxRecords);
    this.resume(c);
    let got = this.ahead.filter((m) => m.offset >= start);
    this.ahead = [];
    for (;;) {
      if (got.length >= maxRecords || takeWithin(got, maxRecords, r.maxBytes) < got.length) break;
      // The consumer reached the end: what it did not deliver up to there was skipped (markers, aborted records).
      const atEnd = this.eofAt !== undefined && this.eofAt >= end;
      const behind = (got.length > 0 ? got[got.length - 1].offset + 1 : start) < end;
      if (got.length > 0 && (!behind || atEnd)) break;
      if (got.length === 0 && atEnd && start < end) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.stopping) break;
      c.setDefaultConsumeTimeout(Math.min(CONSUME_SLICE_MS, remaining));
      const batch: RdMessage[] = await callback((cb) => c.consume(maxRecords - got.length, cb));
      got = got.concat(batch.filter((m) => m.topic === r.topic && m.partition === r.partition && m.offset >= start));
    }
    const n = takeWithin(got, maxRecords, r.maxBytes);
    const messages = got.slice(0, n).map(toIncoming);
    this.ahead = got.slice(n);
    let next: number;
    if (messages.length > 0) next = got[n - 1].offset + 1;
    else next = this.eofAt !== undefined && this.eofAt >= end ? Math.max(start, this.eofAt) : start;
    wm = this.cachedEnds(c, r) ?? wm;
    // Records deleted while this read went on: librdkafka restarted at the log start (auto.offset.reset).
    if (messages.length === 0) next = Math.max(next, wm.low);
    this.at = { topic: r.topic, partition: r.partition, next: String(next) };
    if (next >= wm.high) {
      // At the end, librdkafka would poll the broker on and on, and the next repositioning would
      // wait for the poll in flight; records before the end stay fetched ahead for the next read.
      this.paused = { topic: r.topic, partition: r.partition };
      c.pause([this.paused]);
    }
    return { messages, nextOffset: String(next), highWatermark: String(Math.max(wm.high, next)), logStartOffset: String(wm.low) };
  }

  /** The partition's ends from this connection's last fetch, when it has fetched it. */
  private cachedEnds(c: any, r: PartitionRead): { low: number; high: number } | undefined {
    if (this.at?.topic !== r.topic || this.at.partition !== r.partition) return undefined;
    try {
      const { lowOffset, highOffset } = c.getWatermarkOffsets(r.topic, r.partition);
      return lowOffset >= 0 && highOffset >= 0 ? { low: lowOffset, high: highOffset } : undefined;
    } catch {
      return undefined;
    }
  }

  private resume(c: any) {
    if (!this.paused) return;
    c.resume([this.paused]);
    this.paused = undefined;
  }

  forget() {
    this.at = undefined;
    this.ahead = [];
  }

  async close() {
    const c = this.c;
    this.c = undefined;
    if (c) await callback((cb) => c.disconnect(cb));
  }
}

export class ConfluentPartitionReader implements PartitionReader {
  private readonly slots: Slot[];
  private readonly waiting: Array<{ read: PartitionRead; take: (s: Slot) => void; fail: (e: unknown) => void }> = [];
  private uses = 0;
  private closed = false;

  constructor(connection: Record<string, unknown>, options: PartitionReaderOptions = {}) {
    const conf = {
      ...connection,
      // Required by librdkafka's consumer; never joined (no subscribe) nor committed to.
      'group.id': `tideway-reader-${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'auto.offset.reset': 'earliest',
      'enable.partition.eof': true,
      'isolation.level': (options.readCommitted ?? true) ? 'read_committed' : 'read_uncommitted',
      // A fetch at the end waits this long on the broker, and a repositioning waits for it.
      'fetch.wait.max.ms': 10,
      'fetch.message.max.bytes': options.fetchMaxBytesPerPartition ?? 4 * 1_048_576,
      'queued.max.messages.kbytes': Math.max(1_024, Math.ceil((options.prefetchMaxBytes ?? 32 * 1_048_576) / 1_024)),
      'queued.min.messages': 100_000,
    };
    this.slots = Array.from({ length: Math.max(1, options.concurrency ?? 4) }, () => new Slot(conf));
  }

  async read(r: PartitionRead): Promise<PartitionReadResult> {
    if (this.closed) throw new TidewayError('CONNECTION_FAILED', 'partition reader is closed');
    if (!/^\d+$/.test(r.offset)) throw new RangeError(`offset ${r.offset} is not a non-negative integer`);
    const slot = await this.acquire(r);
    try {
      return await slot.read(r, (c) => this.queryEnds(c, r));
    } catch (err) {
      slot.forget();
      throw err;
    } finally {
      this.release(slot);
    }
  }

  private queryEnds(c: any, r: PartitionRead): Promise<{ low: number; high: number }> {
    return callback<{ lowOffset: number; highOffset: number }>((cb) => c.queryWatermarkOffsets(r.topic, r.partition, REQUEST_TIMEOUT_MS, cb)).then((o) => ({
      low: o.lowOffset,
      high: o.highOffset,
    }));
  }

  private acquire(r: PartitionRead): Promise<Slot> {
    const i = pickSlot(this.slots, r);
    if (i >= 0) return Promise.resolve(this.take(this.slots[i]));
    return new Promise((take, fail) => this.waiting.push({ read: r, take, fail }));
  }

  private take(s: Slot): Slot {
    s.busy = true;
    s.lastUsed = ++this.uses;
    return s;
  }

  private release(s: Slot) {
    s.busy = false;
    // The longest waiting read goes first (no read starves), on the best idle connection for it.
    const w = this.waiting.shift();
    if (w) w.take(this.take(this.slots[pickSlot(this.slots, w.read)]));
  }

  /** Reads in progress end early with what they have; reads not started yet fail. */
  async close() {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.fail(new TidewayError('CONNECTION_FAILED', 'partition reader closed'));
    for (const s of this.slots) s.stopping = true;
    // A consumer is disconnected once its read is done (a consume call ends within CONSUME_SLICE_MS).
    await Promise.all(
      this.slots.map(async (s) => {
        while (s.busy) await sleep(10);
        await s.close();
      }),
    );
  }
}
