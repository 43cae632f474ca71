/**
 * Metrics of `tideway dwh-loader`. Consumer lag and dead-letter counts come from the runtime's
 * shared `ConsumerMetrics`; the labels here are bounded by the number of warehouse tables.
 */
import { BATCH_SIZE_BUCKETS, ConsumerMetrics, Counter, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from '@tideway/runtime';

export class DwhLoaderMetrics {
  readonly consumer: ConsumerMetrics;
  readonly rowsApplied: Counter<'table' | 'op'>;
  readonly batchSize: Histogram;
  readonly applySeconds: Histogram;
  readonly endToEndLagSeconds: Histogram;
  readonly applyRetries: Counter;
  readonly fenceConflicts: Counter;
  readonly redeliveredSkipped: Counter;

  constructor(registry: Registry) {
    this.consumer = new ConsumerMetrics(registry);
    this.rowsApplied = new Counter({
      name: 'tideway_dwh_rows_applied_total',
      help: 'Change events committed to the warehouse, by warehouse table and op (c, u, d, r, t). Changes superseded within a batch count too.',
      labelNames: ['table', 'op'],
      registers: [registry],
    });
    this.batchSize = new Histogram({
      name: 'tideway_dwh_batch_size_records',
      help: 'Records per warehouse transaction.',
      buckets: BATCH_SIZE_BUCKETS,
      registers: [registry],
    });
    this.applySeconds = new Histogram({
      name: 'tideway_dwh_apply_duration_seconds',
      help: 'Time to apply one batch: DDL, statements, offsets and commit.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.endToEndLagSeconds = new Histogram({
      name: 'tideway_dwh_end_to_end_lag_seconds',
      help: 'From the Kafka record timestamp to the warehouse commit, per batch (its oldest record).',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.applyRetries = new Counter({
      name: 'tideway_dwh_apply_retries_total',
      help: 'Batches retried after a warehouse error that may pass.',
      registers: [registry],
    });
    this.fenceConflicts = new Counter({
      name: 'tideway_dwh_offset_fence_conflicts_total',
      help: 'Batches not committed because another loader had moved the warehouse offsets of the partition (rebalance).',
      registers: [registry],
    });
    this.redeliveredSkipped = new Counter({
      name: 'tideway_dwh_redelivered_records_skipped_total',
      help: 'Records skipped because the warehouse already holds them (redelivery).',
      registers: [registry],
    });
  }
}
