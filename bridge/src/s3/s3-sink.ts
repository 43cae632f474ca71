/**
 * s3 route, a self-hosted Firehose: buffers by size and time (bufferingHints), writes GZIP JSON
 * lines under Firehose-style prefixes, failed records under the error-output prefix.
 *
 * Buffers are per Kafka partition so an object's name can come from its Kafka coordinates
 * (`<prefix><topic>+<partition>+<first offset>.json.gz`): after a crash the route restarts at the
 * committed offset — the first offset of the oldest unwritten buffer — and writes the same name
 * again. With conditional writes an existing object that already holds the range is kept, one
 * holding less is replaced. Offsets are acknowledged only after every object of a buffer exists.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { backoffDelayMs, sleep, type BackoffPolicy, type Logger } from '@tideway/runtime';
import { awsErrorCode, DestinationMissingError, errorCodeLabel, needsOperator } from '../errors';
import type { BridgeMetrics } from '../metrics';
import type { S3Destination } from '../routes';
import type { BridgeRecord, RecordOutcomes, Sink } from '../sink';
import { planObjects, startsNewBuffer, type PlannedObject } from './object-plan';

export interface S3SinkOptions {
  route: string;
  destination: S3Destination;
  client: S3Client;
  logger: Logger;
  metrics: BridgeMetrics;
  outcomes: RecordOutcomes;
  backoff: BackoffPolicy;
  maxInFlight: number;
  /** On top of the buffering size: bytes being written before fetching pauses. */
  maxBufferedBytes: number;
  now?: () => number;
}

/** Lines in ~256 KiB chunks: one stream write per chunk instead of per line. */
function* chunked(lines: readonly Buffer[], size = 256 * 1024): Generator<Buffer> {
  let group: Buffer[] = [];
  let bytes = 0;
  for (const l of lines) {
    group.push(l);
    bytes += l.length;
    if (bytes >= size) {
      yield Buffer.concat(group);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0) yield Buffer.concat(group);
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  records: BridgeRecord[];
  failed: Set<BridgeRecord>;
  bytes: number;
  openedAt: number;
}

export class S3Sink implements Sink {
  readonly kind = 's3' as const;
  readonly maxBufferedBytes: number;
  private readonly buffers = new Map<string, PartitionBuffer>();
  private openBytes = 0;
  private flushingBytes = 0;
  private readonly flushes = new Set<Promise<void>>();
  private slots: number;
  private readonly slotWaiters: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private conditional: boolean;
  private readonly now: () => number;
  private closed = false;
  private lastTopic = '';
  private lastPartition = -1;
  private lastKey = '';

  constructor(private readonly o: S3SinkOptions) {
    this.maxBufferedBytes = o.destination.bufferingHints.sizeBytes + o.maxBufferedBytes;
    this.slots = o.maxInFlight;
    this.conditional = o.destination.conditionalWrites !== 'off';
    this.now = o.now ?? Date.now;
  }

  async prepare(): Promise<void> {
    const { client, destination: d, route, logger } = this.o;
    try {
      await client.send(new HeadBucketCommand({ Bucket: d.bucket }));
    } catch (err) {
      const code = awsErrorCode(err);
      if (code !== 'NotFound' && code !== 'NoSuchBucket') throw err;
      if (!d.create) throw new DestinationMissingError(route, `S3 bucket "${d.bucket}"`);
      logger.info({ route, bucket: d.bucket }, 'creating S3 bucket');
      await client.send(new CreateBucketCommand({ Bucket: d.bucket }));
    }
    const tick = Math.max(50, Math.min(1000, d.bufferingHints.intervalMs / 4));
    this.timer = setInterval(() => this.flushAged(), tick);
    this.timer.unref();
  }

  submit(records: readonly BridgeRecord[]): void {
    for (const r of records) this.append(r, false);
    if (this.o.destination.bufferingHints.intervalMs === 0) this.flushAll();
  }

  submitFailed(records: readonly BridgeRecord[]): void {
    for (const r of records) this.append(r, true);
    if (this.o.destination.bufferingHints.intervalMs === 0) this.flushAll();
  }

  private append(r: BridgeRecord, failed: boolean): void {
    const { topic, partition } = r.message;
    // A batch is of one partition: its key is built once, not per record.
    const key = topic === this.lastTopic && partition === this.lastPartition ? this.lastKey : `${topic}\u0000${partition}`;
    this.lastTopic = topic;
    this.lastPartition = partition;
    this.lastKey = key;
    let b = this.buffers.get(key);
    if (b && startsNewBuffer(b.records[b.records.length - 1]?.message.offset, r.message.offset)) {
      this.flush(key, b);
      b = undefined;
    }
    if (!b) {
      b = { topic: r.message.topic, partition: r.message.partition, records: [], failed: new Set(), bytes: 0, openedAt: this.now() };
      this.buffers.set(key, b);
    }
    b.records.push(r);
    if (failed) b.failed.add(r);
    const bytes = r.data.length + 1;
    b.bytes += bytes;
    this.openBytes += bytes;
    // The size hint bounds the whole route's open buffers, as one Firehose buffer would; checked
    // per record, so a large fetch becomes several objects and object boundaries follow the data.
    if (this.openBytes >= this.o.destination.bufferingHints.sizeBytes) this.flushAll();
  }

  private flushAged(): void {
    const now = this.now();
    for (const [key, b] of this.buffers) if (now - b.openedAt >= this.o.destination.bufferingHints.intervalMs) this.flush(key, b);
  }

  private flushAll(): void {
    for (const [key, b] of this.buffers) this.flush(key, b);
  }

  private flush(key: string, b: PartitionBuffer): void {
    this.buffers.delete(key);
    this.openBytes -= b.bytes;
    this.flushingBytes += b.bytes;
    const p = this.writeUntilDone(b).finally(() => {
      this.flushingBytes -= b.bytes;
      this.flushes.delete(p);
      this.o.outcomes.bufferShrunk();
    });
    this.flushes.add(p);
  }

  private async acquire(): Promise<void> {
    if (this.slots > 0) {
      this.slots--;
      return;
    }
    await new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private release(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.slots++;
  }

  /** Writes every object of a buffer, retrying with backoff until all exist; then acknowledges. */
  private async writeUntilDone(b: PartitionBuffer): Promise<void> {
    const { route, metrics, outcomes, logger, destination: d } = this.o;
    const plan = planObjects(
      { topic: b.topic, partition: b.partition, records: b.records, failed: b.failed, route },
      { prefix: d.prefix, errorOutputPrefix: d.errorOutputPrefix, compression: d.compression, now: this.now() },
    );
    await this.acquire();
    try {
      const pending = [...plan.objects];
      for (let attempt = 0; pending.length > 0 && !this.closed;) {
        const obj = pending[0];
        try {
          await this.writeObject(obj);
          pending.shift();
          attempt = 0;
          metrics.s3Objects.inc({ route, kind: obj.kind });
          if (obj.kind === 'data') metrics.batchRecords.observe({ route }, obj.records.length);
          outcomes.destinationHealthy(true);
        } catch (err) {
          const code = awsErrorCode(err);
          metrics.retries.inc({ route, error_code: errorCodeLabel(code) }, obj.records.length);
          if (needsOperator(code)) outcomes.destinationHealthy(false, `${code}: ${(err as Error).message}`);
          const delay = backoffDelayMs(attempt++, this.o.backoff);
          logger.warn({ route, key: obj.key, errorCode: code, err, retryInMs: delay }, 'S3 write failed; retrying with backoff');
          await sleep(delay);
        }
      }
    } finally {
      this.release();
    }
    if (this.closed) return;
    outcomes.delivered(plan.delivered);
    if (plan.errorOutput.length > 0) outcomes.finished(plan.errorOutput);
  }

  private async writeObject(obj: PlannedObject): Promise<void> {
    const { client, destination: d, logger, route } = this.o;
    const upload = (conditional: boolean) => {
      const body = Readable.from(chunked(obj.lines));
      return new Upload({
        client,
        partSize: d.partSizeBytes,
        queueSize: 1,
        leavePartsOnError: false,
        params: {
          Bucket: d.bucket,
          Key: obj.key,
          Body: d.compression === 'gzip' ? body.pipe(createGzip()) : body,
          ContentType: 'application/x-ndjson',
          Metadata: { 'tideway-first-offset': obj.firstOffset, 'tideway-last-offset': obj.lastOffset, 'tideway-records': String(obj.records.length) },
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        },
      }).done();
    };
    if (!this.conditional) {
      await upload(false);
      return;
    }
    try {
      await upload(true);
    } catch (err) {
      const code = awsErrorCode(err);
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (code === 'PreconditionFailed' || status === 412) {
        // The name exists: an earlier attempt (or a run before a crash) wrote this range.
        const head = await client.send(new HeadObjectCommand({ Bucket: d.bucket, Key: obj.key }));
        const existingLast = head.Metadata?.['tideway-last-offset'];
        if (existingLast !== undefined && BigInt(existingLast) >= BigInt(obj.lastOffset)) {
          logger.info({ route, key: obj.key }, 'object already holds this range (replay); keeping it');
          return;
        }
        logger.info({ route, key: obj.key, existingLast }, 'object holds part of this range (replay); replacing it');
        await upload(false);
        return;
      }
      if (d.conditionalWrites === 'auto' && (code === 'NotImplemented' || status === 501)) {
        logger.warn({ route, bucket: d.bucket }, 'the store does not support conditional writes (If-None-Match); writing unconditionally');
        this.conditional = false;
        await upload(false);
        return;
      }
      throw err;
    }
  }

  bufferedBytes(): number {
    return this.openBytes + this.flushingBytes;
  }

  async drain(signal: AbortSignal): Promise<void> {
    this.flushAll();
    while (this.flushes.size > 0 && !signal.aborted) await Promise.race([Promise.allSettled([...this.flushes]), sleep(500, signal)]);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }
}
