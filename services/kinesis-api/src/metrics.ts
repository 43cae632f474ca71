/** Metrics of `tideway kinesis-api` (labels are bounded: the served operations, two wire formats, the Kinesis and Firehose error names). */
import { Counter, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from '@tideway/runtime';

export class KinesisApiMetrics {
  readonly requests: Counter<'operation' | 'format' | 'outcome'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly recordsPut: Counter;
  readonly bytesPut: Counter;
  readonly recordsRead: Counter;
  readonly bytesRead: Counter;
  readonly throttledRecords: Counter<'direction'>;
  readonly authFailures: Counter<'error'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'tideway_kinesis_api_requests_total',
      help: 'API requests by operation (Firehose.<Operation> for Firehose, unknown for a target not served), wire format (json, cbor) and outcome (ok or the error name).',
      labelNames: ['operation', 'format', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'tideway_kinesis_api_request_duration_seconds',
      help: 'Time from a request fully received to its answer, by operation.',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.recordsPut = new Counter({
      name: 'tideway_kinesis_api_records_put_total',
      help: 'Records written to Kafka by PutRecord and PutRecords (Firehose: PutRecord and PutRecordBatch).',
      registers,
    });
    this.bytesPut = new Counter({
      name: 'tideway_kinesis_api_put_bytes_total',
      help: 'Bytes (data + partition keys; Firehose: data) of the records written.',
      registers,
    });
    this.recordsRead = new Counter({ name: 'tideway_kinesis_api_records_read_total', help: 'Records returned by GetRecords.', registers });
    this.bytesRead = new Counter({ name: 'tideway_kinesis_api_read_bytes_total', help: 'Bytes (data + partition keys) of the records returned.', registers });
    this.throttledRecords = new Counter({
      name: 'tideway_kinesis_api_throttled_total',
      help: 'With KINESIS_API_SHARD_LIMITS: records refused (direction write) and GetRecords calls refused (direction read) over a shard limit.',
      labelNames: ['direction'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'tideway_kinesis_api_auth_failures_total',
      help: 'Requests refused by the signature check, by the Kinesis error answered.',
      labelNames: ['error'],
      registers,
    });
  }
}
