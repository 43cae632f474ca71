/**
 * One route, end to end: its own consumer group → (transform) → its sink, with its own
 * backpressure (above the sink's buffer bound the batch handler waits until it is down to half,
 * which holds fetching) and its own
 * offset commits (only up to the lowest record the destination has not accepted yet).
 * A route whose destination is missing or failing is not ready, and never stalls another route.
 */
import {
  backoffDelayMs,
  DEFAULT_BACKOFF,
  errorMessage,
  ignoreFailure,
  sleep,
  type Consumer,
  type KafkaClient,
  type Logger,
  type MessageBatch,
  type TopicPartition,
} from '@tideway/runtime';
import { BufferRoom, holdWhileFull } from './buffer-room';
import { DeadLetterWriter } from './dead-letter-writer';
import { DestinationMissingError, type DlqReason } from './errors';
import type { BridgeMetrics } from './metrics';
import { OffsetTracker } from './offset-tracker';
import type { Route } from './routes';
import type { BridgeRecord, RecordOutcomes, Sink } from './sink';
import type { FirehoseTransform } from './transform';

/**
 * How often a handler held by backpressure heartbeats and looks for a revoked batch or a stop (room
 * in the sink wakes it at once, without this timer).
 */
const HOLD_TICK_MS = 100;

export interface RoutePipelineOptions {
  route: Route;
  groupId: string;
  kafka: KafkaClient;
  sink: Sink;
  sessionTimeoutMs: number;
  transform?: FirehoseTransform;
  deadLetters: DeadLetterWriter;
  dlqSuffix: string;
  logger: Logger;
  metrics: BridgeMetrics;
  commitIntervalMs: number;
  setReady: (ready: boolean) => void;
  signal: AbortSignal;
  /** Reports an error that ended the route (the runtime restarts or stops the service). */
  fail: (err: unknown) => void;
}

export class RoutePipeline implements RecordOutcomes {
  private readonly tracker = new OffsetTracker();
  private consumer?: Consumer;
  private assigned: TopicPartition[] = [];
  private commitTimer?: NodeJS.Timeout;
  private healthy = false;
  private running = false;
  /** The consumer's connection to Kafka, sampled at each commit tick. */
  private kafkaUp = true;
  private started?: Promise<void>;
  private readonly name: string;
  /** Wakes a handler held by backpressure when the sink's buffer shrinks. */
  private readonly room: BufferRoom;

  constructor(private readonly o: RoutePipelineOptions) {
    this.name = o.route.name;
    this.room = new BufferRoom(() => o.sink.bufferedBytes());
  }

  // ---- RecordOutcomes (called by the sink) ----

  delivered(records: readonly BridgeRecord[]): void {
    const now = Date.now();
    let bytes = 0;
    for (const r of records) {
      this.tracker.ack(r.token);
      bytes += r.data.length;
      this.o.metrics.deliveryLatency.observe({ route: this.name }, (now - r.readAt) / 1000);
    }
    this.o.metrics.recordsDelivered.inc({ route: this.name, destination: this.o.sink.kind }, records.length);
    this.updatePending();
    this.o.metrics.bytesDelivered.inc({ route: this.name, destination: this.o.sink.kind }, bytes);
  }

  finished(records: readonly BridgeRecord[]): void {
    for (const r of records) this.tracker.ack(r.token);
    this.updatePending();
  }

  private updatePending(): void {
    this.o.metrics.recordsPending.set({ route: this.name }, this.tracker.pendingCount());
  }

  deadLetter(record: BridgeRecord, reason: DlqReason, error: string): void {
    const m = record.message;
    this.o.deadLetters.write({
      message: DeadLetterWriter.message({
        message: m,
        reason,
        error,
        service: 'bridge',
        topic: this.o.route.deadLetterTopic ?? `${m.topic}${this.o.dlqSuffix}`,
      }),
      done: () => {
        this.o.metrics.consumer.deadLettered.inc({ topic: m.topic, reason });
        this.tracker.ack(record.token);
        this.updatePending();
      },
    });
  }

  bufferShrunk(): void {
    this.room.changed();
  }

  destinationHealthy(healthy: boolean, problem?: string): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.setReady();
    if (!healthy) this.o.logger.error({ route: this.name, problem }, 'destination is failing; route not ready, records are retried');
    else this.o.logger.info({ route: this.name }, 'destination healthy again');
  }

  // ---- lifecycle ----

  /** Prepares the destination (retrying while it is missing), then starts consuming. Returns at once. */
  start(): void {
    // The runtime decides: a transient error restarts the service in-process, any other stops it.
    this.started = this.run().catch((err) => {
      this.o.logger.error({ route: this.name, err: errorMessage(err) }, 'route stopped by an error');
      if (!this.o.signal.aborted) this.o.fail(err);
    });
  }

  private async prepareDestination(): Promise<boolean> {
    for (let attempt = 0; !this.o.signal.aborted; attempt++) {
      try {
        await this.o.sink.prepare(this.o.signal);
        return true;
      } catch (err) {
        if (this.o.signal.aborted) return false;
        const delay = backoffDelayMs(Math.min(attempt, 8), { ...DEFAULT_BACKOFF, initialMs: 1000 }) + 1000;
        this.o.setReady(false);
        this.o.logger.error(
          { route: this.name, err: err instanceof DestinationMissingError ? undefined : err, retryInMs: delay },
          `destination not usable: ${errorMessage(err)}; not consuming until it is`,
        );
        await sleep(delay, this.o.signal);
      }
    }
    return false;
  }

  private async run(): Promise<void> {
    if (!(await this.prepareDestination())) return;
    const { kafka, groupId, route } = this.o;
    const consumer = kafka.consumer({
      groupId,
      fromBeginning: true,
      partitionsConsumedConcurrently: 4,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(1000, Math.floor(this.o.sessionTimeoutMs / 10)),
    });
    this.consumer = consumer;
    consumer.onAssignment((assigned) => {
      this.assigned = assigned;
      this.tracker.retain(assigned);
    });
    await consumer.connect();
    await consumer.subscribe('names' in route.topics ? route.topics.names : [route.topics.regex]);
    this.running = true;
    this.healthy = true;
    this.setReady();
    this.commitTimer = setInterval(() => {
      this.followKafka();
      void this.commit();
    }, this.o.commitIntervalMs);
    this.commitTimer.unref();
    this.o.logger.info({ route: this.name, groupId, destination: this.o.sink.kind }, 'route consuming');
    await consumer.run((batch) => this.handleBatch(batch));
  }

  private setReady(): void {
    this.o.setReady(this.running && this.healthy && this.kafkaUp);
  }

  /** Not ready while the consumer has lost Kafka (kafkajs crashes and restarts it until the group is joined again). */
  private followKafka(): void {
    const up = this.consumer?.isConnected() === true;
    if (up === this.kafkaUp) return;
    this.kafkaUp = up;
    this.setReady();
    if (!up) this.o.logger.warn({ route: this.name }, 'Kafka consumer disconnected; route not ready until it is back');
    else this.o.logger.info({ route: this.name }, 'Kafka consumer connected again');
  }

  private async handleBatch(batch: MessageBatch): Promise<void> {
    if (batch.isStale() || batch.messages.length === 0) return;
    const readAt = Date.now();
    this.o.metrics.recordsRead.inc({ route: this.name }, batch.messages.length);
    const records: BridgeRecord[] = [];
    for (const m of batch.messages) {
      const token = this.tracker.track(m.topic, m.partition, m.offset);
      if (m.value === null) {
        // A tombstone has nothing to deliver to a stream or a file.
        this.o.metrics.recordsDropped.inc({ route: this.name, reason: 'tombstone' });
        this.tracker.ack(token);
        continue;
      }
      records.push({ message: m, token, data: m.value, readAt });
    }
    const last = batch.messages[batch.messages.length - 1];
    this.o.metrics.consumer.recordLag(this.o.groupId, batch.topic, batch.partition, batch.highWatermark, (BigInt(last.offset) + 1n).toString());
    this.updatePending();
    if (this.o.transform) await this.transformAndSubmit(records);
    else this.o.sink.submit(records);
    this.updatePending();
    await this.waitForRoom(batch);
  }

  private async transformAndSubmit(records: BridgeRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 500) {
      const chunk = records.slice(i, i + 500);
      const outcomes = await this.o.transform!.apply(chunk.map((r) => ({ data: r.data, timestamp: r.message.timestamp })));
      const ok: BridgeRecord[] = [];
      const failed: BridgeRecord[] = [];
      outcomes.forEach((out, j) => {
        const r = chunk[j];
        if (out.result === 'Ok') ok.push({ ...r, data: out.data });
        else if (out.result === 'Dropped') {
          this.o.metrics.recordsDropped.inc({ route: this.name, reason: 'transform-dropped' });
          this.tracker.ack(r.token);
        } else failed.push({ ...r, transformError: out.error });
      });
      if (ok.length > 0) this.o.sink.submit(ok);
      if (failed.length > 0) this.o.sink.submitFailed(failed);
    }
  }

  /**
   * Backpressure: while the sink holds more than its bound, the handler does not return until it is
   * down to half, so no further batch is fetched; it is woken by the answer that brings it there.
   * Partitions are not paused for it: a client may drop what it prefetched for a paused partition
   * and fetch it again.
   */
  private waitForRoom(batch: MessageBatch): Promise<void> {
    const { sink, metrics, logger, signal } = this.o;
    return holdWhileFull(batch, {
      bufferedBytes: () => sink.bufferedBytes(),
      bufferedAtMost: (bytes) => this.room.atMost(bytes),
      maxBufferedBytes: sink.maxBufferedBytes,
      running: () => this.running,
      signal,
      tickMs: HOLD_TICK_MS,
      // Keeps the group membership of clients that heartbeat from the handler's thread.
      onHeartbeatError: ignoreFailure(logger, 'heartbeat while holding the fetch', { route: this.name }),
      onBuffered: (bytes) => metrics.bufferedBytes.set({ route: this.name }, bytes),
      onHold: (holding) => {
        metrics.paused.set({ route: this.name }, holding ? 1 : 0);
        if (holding) logger.debug({ route: this.name, buffered: sink.bufferedBytes() }, 'buffer full; holding fetch');
      },
    });
  }

  private committing?: Promise<void>;

  /** Commits what the destination has accepted. */
  async commit(): Promise<void> {
    if (this.committing) return this.committing;
    const offsets = this.tracker.committable();
    if (!this.consumer || offsets.length === 0) return;
    this.committing = (async () => {
      try {
        await this.consumer!.commit(offsets);
        this.tracker.markCommitted(offsets);
      } catch (err) {
        // Rebalances reject commits; the records stay uncommitted and are read again: at-least-once.
        this.o.logger.warn({ route: this.name, err }, 'offset commit failed; will retry');
      } finally {
        this.committing = undefined;
      }
    })();
    return this.committing;
  }

  /** Stop fetching, deliver what is held (bounded by `deadline`), commit, disconnect. */
  async stop(deadline: AbortSignal): Promise<void> {
    this.running = false;
    this.o.setReady(false);
    if (this.consumer && this.assigned.length > 0) this.consumer.pause(this.assigned);
    await this.o.sink.drain(deadline);
    await this.o.deadLetters.idle();
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.committing;
    await this.commit();
    this.o.sink.close();
    await this.consumer?.disconnect().catch((err) => this.o.logger.warn({ route: this.name, err }, 'consumer disconnect failed'));
    await Promise.race([this.started, sleep(1000)]);
  }
}
