// The compose file's kinesis-api, through its published port with the AWS SDK, as a Kinesis
// application would use it: ListStreams names the change topics, and the demo's transactions read
// back through GetShardIterator / GetRecords.
//   node kinesis-api-check.cjs <endpoint> <stream>
// Exit 0 when the stream is listed and at least one record was read back.
'use strict';
const { KinesisClient, ListStreamsCommand, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } = require('@aws-sdk/client-kinesis');

async function main() {
  const [endpoint, stream] = process.argv.slice(2);
  // The compose file runs it with KINESIS_API_AUTH=none: any key signs.
  const kinesis = new KinesisClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const names = [];
  let next;
  do {
    const page = await kinesis.send(new ListStreamsCommand(next ? { ExclusiveStartStreamName: next } : {}));
    names.push(...(page.StreamNames ?? []));
    next = page.HasMoreStreams ? names[names.length - 1] : undefined;
  } while (next);
  if (!names.includes(stream)) throw new Error(`ListStreams does not name ${stream}: ${names.join(', ')}`);
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
  let records = 0;
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    for (let i = 0; i < 5 && iterator; i++) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
      records += page.Records?.length ?? 0;
      iterator = page.Records?.length ? undefined : page.NextShardIterator;
    }
  }
  if (records === 0) throw new Error(`no record of ${stream} read back from ${Shards.length} shards`);
  console.log(`${names.length} streams listed; ${records} records of ${stream} read back from ${Shards.length} shards`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
