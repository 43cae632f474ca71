/** Reading a Kinesis stream back (kinesis-mock) in integration tests. */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

export interface StreamRecord {
  shardId: string;
  partitionKey: string;
  data: Buffer;
  sequenceNumber: string;
}

/** Every record of every shard, each shard in sequence order (GetRecords from TRIM_HORIZON). */
export async function readStream(client: KinesisClient, name: string): Promise<StreamRecord[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: StreamRecord[] = [];
  for (const shard of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let empty = 0; it && empty < 2;) {
      const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      const recs = res.Records ?? [];
      for (const r of recs) out.push({ shardId: shard.ShardId!, partitionKey: r.PartitionKey!, data: Buffer.from(r.Data!), sequenceNumber: r.SequenceNumber! });
      empty = recs.length === 0 ? empty + 1 : 0;
      if (recs.length === 0 && res.MillisBehindLatest === 0) break;
      it = res.NextShardIterator;
    }
  }
  return out;
}
