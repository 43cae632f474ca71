/**
 * A Kinesis endpoint that keeps up: speaks just enough of the Kinesis JSON API
 * (DescribeStreamSummary, ListShards, PutRecords, PutRecord) to accept every record, and counts them.
 * For throughput benchmarks only — kinesis-mock slows to ~10 ms per record as a stream fills
 * (docs/stack.md), so it cannot show whether the bridge is the bottleneck.
 * Correctness against kinesis-mock is proven by bridge/test/kinesis.int.test.ts.
 */
'use strict';
const { createServer } = require('node:http');

function shardsFor(count) {
  const max = (1n << 128n) - 1n;
  const step = max / BigInt(count) + 1n;
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: String(step * BigInt(i)), EndingHashKey: String(i === count - 1 ? max : step * BigInt(i + 1) - 1n) },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  }));
}

/**
 * Starts the server on 127.0.0.1 (random port); `stats.records` counts accepted records, and
 * `sink.onRecord(dataBase64)`, when set, sees each one.
 */
function startKinesisSink(shardCount = 64) {
  const stats = { records: 0, bytes: 0, calls: 0 };
  const shards = shardsFor(shardCount);
  let seq = 0n;
  const sink = { onRecord: undefined };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] || '');
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      let out;
      if (target.endsWith('.DescribeStreamSummary')) {
        out = {
          StreamDescriptionSummary: {
            StreamName: body.StreamName,
            StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${body.StreamName}`,
            StreamStatus: 'ACTIVE',
            OpenShardCount: shardCount,
            RetentionPeriodHours: 24,
            StreamCreationTimestamp: 0,
            EnhancedMonitoring: [],
          },
        };
      } else if (target.endsWith('.ListShards')) {
        out = { Shards: shards };
      } else if (target.endsWith('.PutRecords')) {
        stats.calls++;
        stats.records += body.Records.length;
        for (const r of body.Records) {
          stats.bytes += Buffer.byteLength(r.Data, 'base64');
          if (sink.onRecord) sink.onRecord(r.Data);
        }
        out = { FailedRecordCount: 0, Records: body.Records.map(() => ({ SequenceNumber: String(++seq), ShardId: shards[0].ShardId })) };
      } else if (target.endsWith('.PutRecord')) {
        stats.calls++;
        stats.records++;
        stats.bytes += Buffer.byteLength(body.Data, 'base64');
        if (sink.onRecord) sink.onRecord(body.Data);
        out = { SequenceNumber: String(++seq), ShardId: shards[0].ShardId };
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      const payload = JSON.stringify(out);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(
        Object.assign(sink, {
          url: `http://127.0.0.1:${server.address().port}`,
          stats,
          close: () =>
            new Promise((r) => {
              server.closeAllConnections();
              server.close(() => r());
            }),
        }),
      ),
    ),
  );
}

module.exports = { startKinesisSink };

// As a child process (bench/bridge/floor.js): sends { url } once listening and { stats } on 'stats'.
if (require.main === module && process.send) {
  void startKinesisSink(64).then((sink) => {
    process.send({ url: sink.url });
    process.on('message', () => process.send({ stats: sink.stats }));
    process.once('SIGTERM', () => void sink.close().then(() => process.exit(0)));
  });
}
