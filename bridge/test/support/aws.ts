/** Test helpers over the real emulators (kinesis-mock, moto): create, read back, clean up (S3's are in test-support/s3.ts). */
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { waitFor } from '../../../test-support/wait';

export { createBucket, deleteBucket, getObject, listKeys } from '../../../test-support/s3';

export async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  // kinesis-mock enforces CreateStream's rate limit (LimitExceededException) like AWS: retry.
  const patiently = { timeoutMs: 120_000, intervalMs: 500 };
  await waitFor(
    async () => {
      try {
        await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
        return true;
      } catch (err) {
        if ((err as Error).name === 'LimitExceededException') return false;
        throw err;
      }
    },
    { ...patiently, what: `stream ${name} created` },
  );
  await waitFor(async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', {
    ...patiently,
    what: `stream ${name} ACTIVE`,
  });
}

export async function deleteStream(client: KinesisClient, name: string): Promise<void> {
  await client.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true })).catch(() => undefined);
}

export async function shardRanges(client: KinesisClient, name: string): Promise<Array<{ shardId: string; start: bigint; end: bigint }>> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  return shards.map((s) => ({ shardId: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }));
}

export async function createDeliveryStream(client: FirehoseClient, name: string, bucket: string, prefix: string): Promise<void> {
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        RoleARN: 'arn:aws:iam::123456789012:role/firehose',
        BucketARN: `arn:aws:s3:::${bucket}`,
        Prefix: prefix,
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 },
      },
    }),
  );
}

export async function deleteDeliveryStream(client: FirehoseClient, name: string): Promise<void> {
  await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name })).catch(() => undefined);
}
