/**
 * The bridge's metrics. Labels are bounded: `route` comes from the routes file, `error_code`
 * from a closed list (see errors.ts), `destination` is kinesis|firehose|s3|opensearch, `result` and
 * `outcome` are closed lists.
 */
import { BATCH_SIZE_BUCKETS, ConsumerMetrics, Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from '@tideway/runtime';

export class BridgeMetrics {
  readonly consumer: ConsumerMetrics;
  /** Counted once per record, when the destination accepted it, however many retries it took. */
  readonly recordsRead: Counter<'route'>;
  /** Read and not yet finished (delivered, dead-lettered or dropped): what holds the commit point back. */
  readonly recordsPending: Gauge<'route'>;
  readonly recordsDelivered: Counter<'route' | 'destination'>;
  readonly bytesDelivered: Counter<'route' | 'destination'>;
  readonly retries: Counter<'route' | 'error_code'>;
  readonly throttles: Counter<'route'>;
  readonly batchRecords: Histogram<'route'>;
  readonly deliveryLatency: Histogram<'route'>;
  readonly recordsDropped: Counter<'route' | 'reason'>;
  readonly bufferedBytes: Gauge<'route'>;
  readonly paused: Gauge<'route'>;
  readonly s3Objects: Counter<'route' | 'kind'>;
  readonly openSearchDocuments: Counter<'route' | 'result'>;
  readonly openSearchBulkRequests: Counter<'route' | 'outcome'>;
  readonly openSearchBulkLatency: Histogram<'route'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.consumer = new ConsumerMetrics(registry);
    this.recordsRead = new Counter({
      name: 'tideway_bridge_records_read_total',
      help: 'Kafka records read by the route (a replay after a restart or rebalance reads a record again).',
      labelNames: ['route'],
      registers,
    });
    this.recordsPending = new Gauge({
      name: 'tideway_bridge_records_pending',
      help: 'Records read and not yet finished (delivered, dead-lettered or dropped); the commit point waits for the oldest.',
      labelNames: ['route'],
      registers,
    });
    this.recordsDelivered = new Counter({
      name: 'tideway_bridge_records_delivered_total',
      help: 'Kafka records accepted by the destination (each counted once).',
      labelNames: ['route', 'destination'],
      registers,
    });
    this.bytesDelivered = new Counter({
      name: 'tideway_bridge_bytes_delivered_total',
      help: 'Bytes of record data accepted by the destination (after the transform, before compression).',
      labelNames: ['route', 'destination'],
      registers,
    });
    this.retries = new Counter({
      name: 'tideway_bridge_retries_total',
      help: 'Records (or whole calls) sent again, by the error that made them fail.',
      labelNames: ['route', 'error_code'],
      registers,
    });
    this.throttles = new Counter({
      name: 'tideway_bridge_throttles_total',
      help: 'Throttling answers (per-record ProvisionedThroughputExceeded or whole-call throttling).',
      labelNames: ['route'],
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'tideway_bridge_batch_records',
      help: 'Records per destination request (PutRecords, PutRecordBatch, S3 object).',
      labelNames: ['route'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'tideway_bridge_delivery_latency_seconds',
      help: 'From reading a record from Kafka to the destination accepting it.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS.concat([60, 120, 300, 900]),
      registers,
    });
    this.recordsDropped = new Counter({
      name: 'tideway_bridge_records_dropped_total',
      help: 'Records intentionally not delivered: tombstones, or Dropped by the transform.',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.bufferedBytes = new Gauge({
      name: 'tideway_bridge_buffered_bytes',
      help: 'Bytes read from Kafka and not yet accepted by the destination.',
      labelNames: ['route'],
      registers,
    });
    this.paused = new Gauge({
      name: 'tideway_bridge_fetch_paused',
      help: '1 while the route holds fetching because its buffer is full.',
      labelNames: ['route'],
      registers,
    });
    this.s3Objects = new Counter({
      name: 'tideway_bridge_s3_objects_written_total',
      help: 'Objects written by s3 routes (kind=data|error).',
      labelNames: ['route', 'kind'],
      registers,
    });
    this.openSearchDocuments = new Counter({
      name: 'tideway_bridge_opensearch_documents_total',
      help: 'Documents answered in _bulk responses, by result: indexed, retried (429/5xx), rejected (to the dead-letter topic).',
      labelNames: ['route', 'result'],
      registers,
    });
    this.openSearchBulkRequests = new Counter({
      name: 'tideway_bridge_opensearch_bulk_requests_total',
      help: '_bulk requests by outcome: ok (every document indexed), partial (some documents failed), failed (the whole request).',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.openSearchBulkLatency = new Histogram({
      name: 'tideway_bridge_opensearch_bulk_latency_seconds',
      help: 'Duration of one _bulk request, sent to answered (or failed).',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
  }
}
