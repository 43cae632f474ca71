/** Test helpers over the real emulators (kinesis-mock, moto): create, read back, clean up. */
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { waitFor } from '../../../test-support/wait';

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

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) keys.push(o.Key!);
    token = res.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

export async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    const keys = await listKeys(client, bucket);
    for (let i = 0; i < keys.length; i += 1000)
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // best effort
  }
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
