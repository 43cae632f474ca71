/**
 * The consumer's life: subscribe to the selected change topics and run the batch loader; with a
 * regex selector, look for new matching topics periodically and re-subscribe when the set changes
 * (the Kafka client resolves a regex only when subscribing). A re-subscription is a clean leave
 * and re-join of the group; positions come from the warehouse, so nothing is lost or doubled.
 */
import { errorMessage, ignoreFailure, type Admin, type Consumer, type ConsumerOptions, type KafkaClient, type Logger } from '@tideway/runtime';
import type { BatchLoader } from './batch-loader';
import { selectTopics, type TopicSelector } from './topics';

export interface SubscriptionOptions {
  selector: TopicSelector;
  dlqSuffix: string;
  refreshMs: number;
  consumer: ConsumerOptions;
}

export class ChangeTopicSubscription {
  private consumer: Consumer | undefined;
  private topics: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly admin: Admin,
    private readonly loader: BatchLoader,
    private readonly opts: SubscriptionOptions,
    private readonly logger: Logger,
  ) {}

  /** The running consumer (for seek and the Kafka offset hint). */
  current(): Consumer | undefined {
    return this.consumer;
  }

  isConnected(): boolean {
    if (!this.started) return false;
    // No matching topic yet is a healthy state: we are waiting for the first one.
    return this.consumer ? this.consumer.isConnected() : this.topics.length === 0;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.started = true;
    if (this.opts.selector.kind === 'regex') {
      this.timer = setInterval(() => {
        this.restarting = this.restarting
          .then(() => this.refresh())
          .catch((err) => this.logger.warn({ err: errorMessage(err) }, 'topic refresh failed; will retry'));
      }, this.opts.refreshMs);
      this.timer.unref();
    }
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    const existing = this.opts.selector.kind === 'regex' ? await this.admin.listTopics() : [];
    const topics = selectTopics(this.opts.selector, existing, this.opts.dlqSuffix);
    if (this.consumer && topics.join(',') === this.topics.join(',')) return;
    if (topics.length === 0) {
      if (!this.consumer) this.logger.warn('no topic matches DWH_TOPICS yet; waiting for one');
      return;
    }
    if (this.consumer) {
      this.logger.info({ before: this.topics, after: topics }, 'the set of change topics changed; re-subscribing');
      await this.consumer.disconnect();
    }
    this.topics = topics;
    const consumer = this.kafka.consumer(this.opts.consumer);
    consumer.onAssignment((assigned) => this.loader.onAssignment(assigned, consumer));
    try {
      await consumer.connect();
      await consumer.subscribe(topics);
      await consumer.run((batch) => this.loader.handle(batch, consumer));
    } catch (err) {
      // Tried again later with a new consumer: leave no member of the group behind.
      await consumer.disconnect().catch(ignoreFailure(this.logger, 'disconnecting a consumer that failed to start'));
      throw err;
    }
    this.consumer = consumer;
    this.logger.info({ topics }, 'consuming change topics');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // Refresh failures are logged where they happen (refresh loop above).
    await this.restarting.catch(() => undefined);
    // Disconnecting waits for the batch in flight; its transaction either commits or not.
    await this.consumer?.disconnect();
  }
}
