/**
 * One prom-client registry per process, with default process metrics under `tideway_`.
 * Services declare their own metrics against this registry in their own `metrics.ts`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'tideway_' });
  return registry;
}

/** Latency buckets in seconds, 1 ms .. 30 s. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Batch-size buckets in records. */
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * Metrics every Kafka-consuming service exports the same way, so dashboards and alert rules
 * can be written once.
 */
export class ConsumerMetrics {
  readonly lag: Gauge<'group' | 'topic' | 'partition'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;

  constructor(registry: Registry) {
    this.lag = new Gauge({
      name: 'tideway_consumer_lag_messages',
      help: 'Messages between the last processed offset and the partition high watermark.',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: 'tideway_dlq_records_total',
      help: 'Records sent to a dead-letter topic, by source topic and reason code.',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    });
  }

  /** `nextOffset` is the offset of the next record to process. */
  recordLag(group: string, topic: string, partition: number, highWatermark: string, nextOffset: string): void {
    const lag = Number(BigInt(highWatermark) - BigInt(nextOffset));
    this.lag.set({ group, topic, partition: String(partition) }, Math.max(0, lag));
  }
}
