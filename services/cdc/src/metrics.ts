/** Metrics of `tideway cdc`. Labels are bounded: table names come from the configured publication. */
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, BATCH_SIZE_BUCKETS, type Registry } from '@tideway/runtime';

/** Finer at the low end than the runtime's buckets: commit→ack is usually milliseconds. */
const COMMIT_TO_ACK_BUCKETS = [0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60];

export class CdcMetrics {
  readonly events: Counter<'table' | 'op'>;
  readonly snapshotRows: Counter<'table'>;
  readonly snapshotTablesDone: Gauge;
  readonly snapshotRunning: Gauge;
  readonly lagBytes: Gauge;
  readonly lagSeconds: Gauge;
  readonly confirmedLsn: Gauge;
  readonly produceSeconds: Histogram;
  readonly produceBatchRecords: Histogram;
  readonly commitToAckSeconds: Histogram;
  readonly produceErrors: Counter;
  readonly reconnects: Counter<'cause'>;
  readonly transactions: Counter;
  readonly bufferedRecords: Gauge;
  readonly readPaused: Gauge;
  readonly readPauses: Counter;
  readonly undecodableValues: Counter;

  private readonly eventChildren = new Map<string, { inc(): void }>();

  /** The events counter of one table and op, looked up once (this is on the per-change path). */
  eventsFor(schema: string, table: string, op: string): { inc(): void } {
    const id = `${schema}.${table}\u0000${op}`;
    let child = this.eventChildren.get(id);
    if (!child) this.eventChildren.set(id, (child = this.events.labels({ table: `${schema}.${table}`, op })));
    return child;
  }

  constructor(registry: Registry) {
    const registers = [registry];
    this.events = new Counter({
      name: 'tideway_cdc_events_total',
      help: 'Change events produced (acknowledged or not yet), by table and op (c, u, d, r, t).',
      labelNames: ['table', 'op'],
      registers,
    });
    this.snapshotRows = new Counter({
      name: 'tideway_cdc_snapshot_rows_total',
      help: 'Rows read by the initial snapshot, by table.',
      labelNames: ['table'],
      registers,
    });
    this.snapshotTablesDone = new Gauge({
      name: 'tideway_cdc_snapshot_tables_done',
      help: 'Tables whose snapshot is complete in the current snapshot.',
      registers,
    });
    this.snapshotRunning = new Gauge({ name: 'tideway_cdc_snapshot_running', help: '1 while the initial snapshot runs.', registers });
    this.lagBytes = new Gauge({ name: 'tideway_cdc_replication_lag_bytes', help: "Server's current WAL LSN minus the slot's confirmed flush LSN.", registers });
    this.lagSeconds = new Gauge({
      name: 'tideway_cdc_replication_lag_seconds',
      help: 'Age of the oldest committed transaction not yet acknowledged by Kafka (0 when caught up).',
      registers,
    });
    this.confirmedLsn = new Gauge({
      name: 'tideway_cdc_confirmed_flush_lsn_bytes',
      help: 'Position (bytes into the WAL) last confirmed to the server as safely in Kafka.',
      registers,
    });
    this.produceSeconds = new Histogram({
      name: 'tideway_cdc_kafka_produce_seconds',
      help: 'Duration of one Kafka produce request (acks=all), including retries.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.produceBatchRecords = new Histogram({
      name: 'tideway_cdc_kafka_produce_batch_records',
      help: 'Records per Kafka produce request.',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.commitToAckSeconds = new Histogram({
      name: 'tideway_cdc_commit_to_ack_seconds',
      help: "From a transaction's commit in PostgreSQL to Kafka acknowledging its last event.",
      buckets: COMMIT_TO_ACK_BUCKETS,
      registers,
    });
    this.produceErrors = new Counter({ name: 'tideway_cdc_kafka_produce_errors_total', help: 'Failed Kafka produce attempts (each is retried).', registers });
    this.reconnects = new Counter({
      name: 'tideway_cdc_reconnects_total',
      help: 'Replication restarts after a lost connection, by cause.',
      labelNames: ['cause'],
      registers,
    });
    this.transactions = new Counter({ name: 'tideway_cdc_transactions_total', help: 'Transactions whose events Kafka acknowledged.', registers });
    this.bufferedRecords = new Gauge({ name: 'tideway_cdc_buffered_records', help: 'Records handed to Kafka but not yet acknowledged.', registers });
    this.readPauses = new Counter({
      name: 'tideway_cdc_read_pauses_total',
      help: 'Times reading the replication stream paused because Kafka was behind (backpressure).',
      registers,
    });
    this.undecodableValues = new Counter({
      name: 'tideway_cdc_undecodable_values_total',
      help: 'Column values their type decoder could not read; sent as PostgreSQL text instead.',
      registers,
    });
    this.readPaused = new Gauge({
      name: 'tideway_cdc_read_paused',
      help: '1 while reading the replication stream is paused because Kafka is behind.',
      registers,
    });
  }
}
