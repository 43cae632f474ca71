/**
 * Delivers alerts to webhooks, at least once: its own consumer group reads the alerts topic
 * (read_committed, so only alerts of committed transactions) and commits an offset only after
 * every matching notifier has answered or given up. A webhook that is down costs bounded
 * retries per alert (NOTIFIER_MAX_ATTEMPTS, each bounded by NOTIFIER_TIMEOUT_MS); the alert
 * itself is already on the alerts topic, and the evaluation pipeline never waits for this.
 */
import { backoffDelayMs, errorMessage, ignoreFailure, sleep, type Consumer, type KafkaClient, type Logger, type MessageBatch } from '@tideway/runtime';
import type { AlertingSettings } from '../config';
import { NotifierError } from '../errors';
import type { AlertingMetrics } from '../metrics';
import type { Alert } from '../pipeline/alert';
import type { NotifierSpec } from '../rules/rule-file';
import { isRetriableStatus, notifierRequest, notifierWants } from './payloads';

export class NotifierDispatcher {
  private consumer?: Consumer;
  private readonly abort = new AbortController();
  private hasAssignment = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly settings: AlertingSettings,
    private readonly metrics: AlertingMetrics,
    private readonly logger: Logger,
    private notifiers: NotifierSpec[],
  ) {}

  /** True once the group has an assignment (alerts written from then on are delivered) and while the consumer is connected. */
  get assigned(): boolean {
    return this.hasAssignment && this.consumer?.isConnected() === true;
  }

  setNotifiers(notifiers: NotifierSpec[]): void {
    this.notifiers = notifiers;
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `${this.settings.groupId}.notifier`,
      fromBeginning: false,
      readCommitted: true,
      maxWaitTimeMs: this.settings.fetchMaxWaitMs,
      // Fetched alerts wait in memory until delivered: bounded as the pipeline's input.
      maxBytesPerPartition: this.settings.fetchMaxBytesPerPartition,
      maxBytes: 4 * this.settings.fetchMaxBytesPerPartition,
      sessionTimeoutMs: this.settings.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(100, Math.floor(this.settings.sessionTimeoutMs / 10)),
    });
    this.consumer.onAssignment(() => (this.hasAssignment = true));
    await this.consumer.connect();
    await this.consumer.subscribe([this.settings.alertsTopic]);
    await this.consumer.run((batch) => this.handleBatch(batch));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.disconnect().catch(ignoreFailure(this.logger, 'notifier consumer disconnect'));
  }

  /**
   * An alert that went to a notifier is committed right after its deliveries; alerts that no
   * notifier wants (all of them when none is configured) are committed with the next delivered
   * one or at the end of the batch: one commit per batch rather than per alert.
   */
  private async handleBatch(batch: MessageBatch) {
    let uncommitted: string | undefined;
    const commitThrough = async (offset: string) => {
      await this.consumer!.commit([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(offset) + 1n) }]);
      batch.resolveOffset(offset);
      uncommitted = undefined;
    };
    for (const m of batch.messages) {
      if (!batch.isRunning() || batch.isStale() || this.abort.signal.aborted) return;
      uncommitted = m.offset;
      if (this.notifiers.length === 0) continue;
      let alert: Alert;
      try {
        alert = JSON.parse(m.value?.toString('utf8') ?? '') as Alert;
        if (typeof alert.id !== 'string' || typeof alert.rule !== 'string') throw new Error('missing id or rule');
      } catch (err) {
        this.logger.warn({ offset: m.offset, err: errorMessage(err) }, 'skipping a record of the alerts topic that is not an alert');
        continue;
      }
      const targets = this.notifiers.filter((n) => notifierWants(n, alert));
      if (targets.length === 0) continue;
      await Promise.all(targets.map((n) => this.deliver(n, alert)));
      if (this.abort.signal.aborted) return;
      await commitThrough(m.offset);
      await batch.heartbeat();
    }
    if (uncommitted !== undefined && batch.isRunning() && !batch.isStale() && !this.abort.signal.aborted) await commitThrough(uncommitted);
  }

  private async deliver(spec: NotifierSpec, alert: Alert): Promise<void> {
    const req = notifierRequest(spec, alert);
    const policy = { initialMs: this.settings.notifierBackoffInitialMs, maxMs: this.settings.notifierBackoffMaxMs, multiplier: 2 };
    for (let attempt = 0; attempt < this.settings.notifierMaxAttempts; attempt++) {
      if (this.abort.signal.aborted) return;
      try {
        const signal = AbortSignal.any([AbortSignal.timeout(this.settings.notifierTimeoutMs), this.abort.signal]);
        const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal });
        // The body is read only to release the connection: the status already decided.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.metrics.notifications.inc({ notifier: spec.name, outcome: 'sent' });
          return;
        }
        throw new NotifierError(`HTTP ${res.status}`, isRetriableStatus(res.status));
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.metrics.notifierFailures.inc({ notifier: spec.name });
        const retriable = !(err instanceof NotifierError) || err.canRetry;
        const last = attempt + 1 >= this.settings.notifierMaxAttempts;
        // The URL may carry a token (Slack webhooks do): log the notifier's name, never the URL.
        const attemptInfo = { notifier: spec.name, alert: alert.id, attempt: attempt + 1, willRetry: retriable && !last };
        this.logger.warn({ ...attemptInfo, err: errorMessage(err) }, 'notifier attempt failed');
        if (!retriable) {
          this.metrics.notifications.inc({ notifier: spec.name, outcome: 'rejected' });
          return;
        }
        if (last) break;
        await sleep(backoffDelayMs(attempt, policy), this.abort.signal);
      }
    }
    this.metrics.notifications.inc({ notifier: spec.name, outcome: 'failed' });
    const gaveUp = { notifier: spec.name, alert: alert.id, rule: alert.rule };
    this.logger.error(gaveUp, 'notifier gave up on an alert after all attempts (it is still on the alerts topic)');
  }
}
