/**
 * Writes rejected records to their dead-letter topic (with reason and origin headers) and
 * reports each one finished only after Kafka acknowledged it; a failing write is retried with
 * backoff, so a DLQ outage holds the offset back instead of losing the record. The producer
 * connects on the first dead letter: most runs never write one, and a connected producer
 * costs memory (its buffers and connections).
 */
import { backoffDelayMs, DEFAULT_BACKOFF, sleep, toDeadLetter, type Logger, type OutgoingMessage, type Producer } from '@tideway/runtime';

export interface DeadLetterJob {
  message: OutgoingMessage;
  done: () => void;
}

export class DeadLetterWriter {
  private queue: DeadLetterJob[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {}

  static message(input: Parameters<typeof toDeadLetter>[0]): OutgoingMessage {
    return toDeadLetter(input);
  }

  write(job: DeadLetterJob): void {
    this.queue.push(job);
    if (!this.running) this.running = this.loop().finally(() => (this.running = undefined));
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when everything queued so far is written (or the signal aborts). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; this.queue.length > 0;) {
      const jobs = this.queue.splice(0, 500);
      try {
        if (!this.producer.isConnected()) await this.producer.connect();
        await this.producer.send(jobs.map((j) => j.message));
        for (const j of jobs) j.done();
        attempt = 0;
      } catch (err) {
        this.queue.unshift(...jobs);
        const delay = backoffDelayMs(attempt++, DEFAULT_BACKOFF);
        this.logger.error({ err, records: jobs.length, retryInMs: delay }, 'dead-letter write failed; retrying');
        if (this.signal.aborted && attempt > 3) return;
        await sleep(delay);
      }
    }
  }
}
