#!/usr/bin/env node
/**
 * The CPU a destination's wire format costs per record before any bridge logic: the least any
 * Kafka → AWS bridge must spend on top of consuming, for the 1 KiB records of bench.js.
 *
 *   node bench/bridge/encoding-floor.js
 *
 * - kinesis / firehose: PutRecords / PutRecordBatch are JSON with base64 data, signed with SigV4,
 *   whose canonical request includes the SHA-256 of the body: base64 + JSON + SHA-256 per
 *   500-record request (the SDK does at least this; it also runs its middleware stack).
 *   `receivingEndParsesBody`: what the endpoint must do at least with it (parse, decode the base64).
 * - s3: the JSON lines of a 500-record buffer through gzip at zlib's default level (what the
 *   bridge's `compression: gzip` uses), and at level 1 for comparison.
 * No I/O: single-threaded CPU time per record. Compare with the bare consume cost bench.js prints.
 */
'use strict';
const { createHash } = require('node:crypto');
const zlib = require('node:zlib');

const pad = 'x'.repeat(1024);
const records = Array.from({ length: 500 }, (_, j) => {
  const head = JSON.stringify({ seq: j, key: `k${j % 10000}`, pad: '' });
  return { key: `k${j % 10000}`, value: Buffer.from(head.replace('"pad":""', `"pad":"${pad.slice(0, 1024 - head.length)}"`)) };
});

const putRecordsBody = () => {
  const body = JSON.stringify({ StreamName: 'bench', Records: records.map((r) => ({ Data: r.value.toString('base64'), PartitionKey: r.key })) });
  return createHash('sha256').update(body).digest('hex');
};
const body = JSON.stringify({ StreamName: 'bench', Records: records.map((r) => ({ Data: r.value.toString('base64'), PartitionKey: r.key })) });
// What the receiving end must do at least: parse the body and decode each record's data.
const parsePutRecordsBody = () => {
  let n = 0;
  for (const r of JSON.parse(body).Records) n += Buffer.from(r.Data, 'base64').length;
  return n;
};
const newline = Buffer.from('\n');
const gzipLines = (level) => () => zlib.gzipSync(Buffer.concat(records.flatMap((r) => [r.value, newline])), { level });

function microsPerRecord(fn, iterations) {
  for (let i = 0; i < 50; i++) fn();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const cpu = process.cpuUsage(cpu0);
  return Math.round(((cpu.user + cpu.system) / iterations / records.length) * 100) / 100;
}

console.log(
  JSON.stringify({
    recordBytes: 1024,
    recordsPerRequest: records.length,
    cpuMicrosPerRecord: {
      kinesisOrFirehoseBody: microsPerRecord(putRecordsBody, 1000),
      receivingEndParsesBody: microsPerRecord(parsePutRecordsBody, 1000),
      s3GzipDefaultLevel: microsPerRecord(gzipLines(zlib.constants.Z_DEFAULT_COMPRESSION), 400),
      s3GzipLevel1: microsPerRecord(gzipLines(1), 400),
    },
  }),
);
