/** Service limits of the AWS APIs the bridge writes to (documented AWS quotas). */
export const LIMITS = {
  kinesis: {
    /** PutRecords: records per request. */
    maxRecordsPerRequest: 500,
    /** PutRecords: whole request, data + partition keys. */
    maxRequestBytes: 5 * 1024 * 1024,
    /** One record: data + partition key. */
    maxRecordBytes: 1024 * 1024,
    /** Unicode characters. */
    maxPartitionKeyLength: 256,
    /** Per-shard write throughput. */
    shardRecordsPerSecond: 1000,
    shardBytesPerSecond: 1024 * 1024,
  },
  firehose: {
    /** PutRecordBatch: records per call. */
    maxRecordsPerRequest: 500,
    /** PutRecordBatch: whole call. */
    maxRequestBytes: 4 * 1024 * 1024,
    /** One record, before base64. */
    maxRecordBytes: 1000 * 1024,
  },
} as const;
