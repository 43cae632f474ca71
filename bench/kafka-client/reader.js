#!/usr/bin/env node
/**
 * Throughput of the runtime's groupless partition readers: READER=fetch (the default,
 * KafkaClient.partitionReader: Fetch requests over kafkajs's protocol layer) or READER=librdkafka (the
 * pool of librdkafka consumers it falls back to for codecs kafkajs lacks):
 * PARTITIONS partitions of N records of SIZE bytes each, read from offset 0 to the end by one loop per
 * partition, all at once, in pages of PAGE records (read → nextOffset → read), as a GetRecords
 * client iterating shards does. Records/s over the whole read, and CPU µs/record of this process
 * (process.cpuUsage, which counts librdkafka's threads), p50/p99/max of a page's read.
 *
 *   npm run build && node bench/kafka-client/reader.js [records per partition=25000] [size=1024] [runs=2] [concurrency=4] [page=10000]
 *   e.g. node bench/kafka-client/reader.js 10000 1024 1   (a short check)
 * READER_FETCH_MIB / READER_PREFETCH_MIB set the reader's fetchMaxBytesPerPartition / prefetchMaxBytes (default: the reader's).
 * Needs the local stack and the built services/runtime/dist/. Each run reads a topic of its own with a
 * reader of its own (no records cached from an earlier run); prints its line and `RESULT {json}` (bench/kit.js).
 */
'use strict';
const { randomUUID } = require('node:crypto');
const path = require('node:path');
const kit = require('../kit');

const { createKafkaClient } = require(path.join(kit.ROOT, 'services/runtime/dist/kafka/client'));
const { createLogger } = require(path.join(kit.ROOT, 'services/runtime/dist/logger'));
const { ConfluentPartitionReader } = require(path.join(kit.ROOT, 'services/runtime/dist/kafka/confluent-partition-reader'));
const READER = process.env.READER ?? 'fetch';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = 4;
const [records = 25_000, size = 1024, runs = 2, concurrency = 4, page = 10_000] = process.argv.slice(2).map(Number);

const client = createKafkaClient(
  {
    kafkaClient: 'confluent',
    kafkaBrokers: BROKERS,
    kafkaClientId: 'bench-reader',
    kafkaSaslMechanism: 'none',
    kafkaTls: false,
    kafkaConnectionTimeoutMs: 10_000,
  },
  createLogger('bench', 'silent'),
);

async function load(admin, topic) {
  await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
  const producer = client.producer();
  await producer.connect();
  const value = Buffer.alloc(size, 'x');
  for (let i = 0; i < records; i += 1_000) {
    const batch = [];
    for (let p = 0; p < PARTITIONS; p++) for (let j = i; j < Math.min(records, i + 1_000); j++) batch.push({ topic, partition: p, key: `k${j}`, value });
    await producer.send(batch);
  }
  await producer.disconnect();
}

async function once(admin, runIndex) {
  const topic = `bench-reader-${randomUUID().slice(0, 8)}`;
  await load(admin, topic);
  const mib = (name) => (process.env[name] ? Number(process.env[name]) * 1_048_576 : undefined);
  const options = { readCommitted: false, concurrency, fetchMaxBytesPerPartition: mib('READER_FETCH_MIB'), prefetchMaxBytes: mib('READER_PREFETCH_MIB') };
  const reader =
    READER === 'librdkafka'
      ? new ConfluentPartitionReader({ 'bootstrap.servers': BROKERS.join(','), 'client.id': 'bench-reader' }, options)
      : client.partitionReader(options);
  const pages = [];
  let read = 0;
  const m = kit.measure(process.pid);
  try {
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, partition) => {
        let offset = '0';
        while (Number(offset) < records) {
          const t = process.hrtime.bigint();
          const r = await reader.read({ topic, partition, offset, maxRecords: page, maxWaitMs: 1_000 });
          pages.push(Number(process.hrtime.bigint() - t) / 1e6);
          for (const msg of r.messages) if (msg.value.length !== size) throw new Error(`record ${partition}:${msg.offset} has ${msg.value.length} bytes`);
          read += r.messages.length;
          offset = r.nextOffset;
        }
      }),
    );
    const r = m.end(read);
    if (read !== records * PARTITIONS) throw new Error(`read ${read} of ${records * PARTITIONS} records`);
    const q = kit.quantiles(pages);
    kit.result(
      'kafka-client-reader',
      `run${runIndex}`,
      {
        reader: READER,
        records: read,
        size,
        page,
        concurrency,
        seconds: +r.seconds.toFixed(2),
        rate: Math.round(r.rate),
        cpuUsPerRecord: r.cpuMicrosPerRecord,
        pages: pages.length,
        pageMs: q,
      },
      `${READER} run ${runIndex}: ${read} records of ${size} B in ${r.seconds.toFixed(2)} s: ${Math.round(r.rate)} records/s, ${kit.cpuText(r.cpuMicrosPerRecord)}; ` +
        `${pages.length} pages of up to ${page}, page ms p50 ${q.p50Ms.toFixed(1)} p99 ${q.p99Ms.toFixed(1)} max ${q.maxMs.toFixed(1)}`,
    );
  } finally {
    await reader.close();
    await admin.deleteTopics([topic]);
  }
}

kit.run(async () => {
  const admin = client.admin();
  await admin.connect();
  try {
    for (let i = 1; i <= runs; i++) await once(admin, i);
  } finally {
    await admin.disconnect();
  }
});
