/**
 * firehose route: PutRecordBatch within limits (≤ 500 records, ≤ 4 MiB per call, ≤ 1,000 KiB per
 * record), newline-delimited by default, FailedPutCount retried per record. With packing, runs of
 * small records travel as one Firehose record (Firehose bills each record rounded up to 5 KB).
 * Firehose keeps no order, so records are queued under packing groups rather than Kafka keys.
 */
import { DescribeDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { sleep, type BackoffPolicy, type Logger } from '@tideway/runtime';
import { BatchSender } from '../batch-sender';
import { awsErrorCode, DestinationMissingError, DLQ_REASONS } from '../errors';
import { outcomesOfBatchCall, type Unit, type UnitOutcome } from '../key-ordered-retry-queue';
import { LIMITS } from '../limits';
import type { BridgeMetrics } from '../metrics';
import type { FirehoseDestination } from '../routes';
import type { BridgeRecord, RecordOutcomes, Sink } from '../sink';

export interface FirehoseSinkOptions {
  route: string;
  destination: FirehoseDestination;
  client: FirehoseClient;
  logger: Logger;
  metrics: BridgeMetrics;
  outcomes: RecordOutcomes;
  backoff: BackoffPolicy;
  maxInFlight: number;
  maxBufferedBytes: number;
}

const NEWLINE = 0x0a;

/** The bytes Firehose receives for one record: newline appended unless it ends with one. */
export function firehoseData(data: Buffer, newlineDelimited: boolean): Buffer {
  if (!newlineDelimited || (data.length > 0 && data[data.length - 1] === NEWLINE)) return data;
  return Buffer.concat([data, Buffer.from([NEWLINE])]);
}

export class FirehoseSink implements Sink {
  readonly kind = 'firehose' as const;
  readonly maxBufferedBytes: number;
  private readonly sender: BatchSender;
  private seq = 0;
  private packKey = '';
  private packBytes = Infinity;

  constructor(private readonly o: FirehoseSinkOptions) {
    this.maxBufferedBytes = o.maxBufferedBytes;
    const packing = o.destination.packing;
    this.sender = new BatchSender({
      route: o.route,
      maxInFlight: o.maxInFlight,
      backoff: o.backoff,
      logger: o.logger,
      metrics: o.metrics,
      outcomes: o.outcomes,
      limits: () => ({
        maxUnits: LIMITS.firehose.maxRecordsPerRequest,
        maxBytes: LIMITS.firehose.maxRequestBytes,
        unitMaxRecords: packing.enabled ? 100_000 : 1,
        unitMaxBytes: packing.enabled ? packing.maxBytes : LIMITS.firehose.maxRecordBytes,
      }),
      send: (units) => this.putRecordBatch(units),
    });
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const { client, destination: d, route } = this.o;
    for (;;) {
      let status: string | undefined;
      try {
        const res = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: d.deliveryStream }));
        status = res.DeliveryStreamDescription?.DeliveryStreamStatus;
      } catch (err) {
        if (awsErrorCode(err) === 'ResourceNotFoundException') throw new DestinationMissingError(route, `Firehose delivery stream "${d.deliveryStream}"`);
        throw err;
      }
      if (status === undefined || status === 'ACTIVE' || signal.aborted) return;
      await sleep(500, signal);
    }
  }

  submit(records: readonly BridgeRecord[]): void {
    const { destination: d, outcomes } = this.o;
    for (const r of records) {
      // The newline is added when sending, so a queued record is held once, not copied.
      const size = r.data.length + (d.newlineDelimited ? 1 : 0);
      if (size > LIMITS.firehose.maxRecordBytes) {
        outcomes.deadLetter(r, DLQ_REASONS.tooLarge, `record is ${size} bytes; Firehose accepts at most ${LIMITS.firehose.maxRecordBytes} per record`);
        continue;
      }
      let key: string;
      if (d.packing.enabled) {
        // Consecutive records share a key until the pack is full: the queue then sends them as one unit.
        if (this.packBytes + size > d.packing.maxBytes) {
          this.packKey = `p${this.seq++}`;
          this.packBytes = 0;
        }
        this.packBytes += size;
        key = this.packKey;
      } else key = `r${this.seq++}`;
      this.sender.queue.enqueue({ key, bytes: size, payload: r, enqueuedAt: r.readAt });
    }
    this.sender.pump();
  }

  submitFailed(records: readonly BridgeRecord[]): void {
    for (const r of records) this.o.outcomes.deadLetter(r, DLQ_REASONS.transformFailed, r.transformError ?? 'transform failed');
  }

  private async putRecordBatch(units: readonly Unit<BridgeRecord>[]): Promise<UnitOutcome[]> {
    const nl = this.o.destination.newlineDelimited;
    const records = units.map((u) => ({
      Data: u.entries.length === 1 ? firehoseData(u.entries[0].payload.data, nl) : Buffer.concat(u.entries.map((e) => firehoseData(e.payload.data, nl))),
    }));
    const res = await this.o.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.o.destination.deliveryStream, Records: records }));
    return outcomesOfBatchCall('PutRecordBatch', units.length, res.RequestResponses ?? []);
  }

  bufferedBytes(): number {
    return this.sender.bytes;
  }

  drain(signal: AbortSignal): Promise<void> {
    return this.sender.drain(signal);
  }

  close(): void {
    this.sender.close();
  }
}
