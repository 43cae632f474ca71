/**
 * Proves the local stack (`npm run stack:up`) is the real thing: each part answers the
 * requests the services make, through the same client libraries.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand, DescribeDeliveryStreamCommand, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { firehoseClient, kafkaBrokers, kinesisClient, s3Client, stackEnv, uniqueName } from '../../../test-support/stack';
import { waitFor } from '../../../test-support/wait';

jest.setTimeout(120_000);

describe('local stack', () => {
  test('Kafka: a fresh topic, produce, consume in a group, commit', async () => {
    const kafka = new Kafka({ clientId: 'stack-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const topic = uniqueName('stack-test');
    const groupId = uniqueName('stack-test-group');
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId });
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })).toBe(true);

      await producer.connect();
      const sent = ['one', 'two', 'three'];
      await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `k${i}`, value })) });

      const received: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic: t, partition, message }) => {
          await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          received.push(String(message.value));
        },
      });
      await waitFor(() => received.length === sent.length, { what: 'all records consumed' });
      expect([...received].sort()).toEqual([...sent].sort());

      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      // A partition with no commit reports offset -1.
      expect(committed[0].partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0)).toBe(sent.length);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  test('kinesis-mock: create a stream, PutRecords, GetRecords', async () => {
    const kinesis = kinesisClient();
    const StreamName = uniqueName('stack-test');
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
      await waitFor(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', {
        what: `stream ${StreamName} ACTIVE`,
      });

      const values = ['alpha', 'beta', 'gamma'];
      const put = await kinesis.send(new PutRecordsCommand({ StreamName, Records: values.map((v, i) => ({ PartitionKey: `pk${i}`, Data: Buffer.from(v) })) }));
      expect(put.FailedRecordCount).toBe(0);

      const shards = await kinesis.send(new ListShardsCommand({ StreamName }));
      expect(shards.Shards).toHaveLength(1);
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName, ShardId: shards.Shards![0].ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      expect((got.Records ?? []).map((r) => Buffer.from(r.Data!).toString())).toEqual(values);
      expect((got.Records ?? []).map((r) => r.PartitionKey)).toEqual(['pk0', 'pk1', 'pk2']);
    } finally {
      await kinesis.send(new DeleteStreamCommand({ StreamName, EnforceConsumerDeletion: true })).catch(() => undefined);
      kinesis.destroy();
    }
  });

  test('moto: Firehose PutRecordBatch to an ExtendedS3 destination, read back with S3', async () => {
    const firehose = firehoseClient();
    const s3 = s3Client();
    const Bucket = uniqueName('stack-test');
    const DeliveryStreamName = uniqueName('stack-test');
    const keys: string[] = [];
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName,
          DeliveryStreamType: 'DirectPut',
          ExtendedS3DestinationConfiguration: {
            BucketARN: `arn:aws:s3:::${Bucket}`,
            RoleARN: 'arn:aws:iam::000000000000:role/firehose-delivery',
            Prefix: 'events/',
            BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 1 },
          },
        }),
      );
      const described = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName }));
      expect(described.DeliveryStreamDescription?.DeliveryStreamStatus).toBe('ACTIVE');

      const lines = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n'];
      const put = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName, Records: lines.map((l) => ({ Data: Buffer.from(l) })) }));
      expect(put.FailedPutCount).toBe(0);

      // moto writes one object per PutRecord/PutRecordBatch call, during the call (buffering
      // hints are ignored), with the records' bytes concatenated as they are.
      const listed = await waitFor(
        async () => {
          const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'events/' }));
          return out.Contents && out.Contents.length > 0 ? out.Contents : undefined;
        },
        { what: 'the Firehose object in S3', timeoutMs: 10_000 },
      );
      keys.push(...listed.map((o) => o.Key!));
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(
        new RegExp(`^events/\\d{4}/\\d{2}/\\d{2}/\\d{2}/${DeliveryStreamName}-\\d+-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-[0-9a-f-]{36}$`),
      );
      const body = await (await s3.send(new GetObjectCommand({ Bucket, Key: keys[0] }))).Body!.transformToString();
      expect(body).toBe(lines.join(''));
    } finally {
      await firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName })).catch(() => undefined);
      for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => undefined);
      await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
      firehose.destroy();
      s3.destroy();
    }
  });

  test('PostgreSQL: a pgoutput logical replication slot sees a change', async () => {
    const db = new Client({ connectionString: stackEnv().CDC_DATABASE_URL });
    const table = uniqueName('stack_test', '_');
    const publication = uniqueName('stack_test_pub', '_');
    const slot = uniqueName('stack_test_slot', '_');
    await db.connect();
    try {
      expect((await db.query('show wal_level')).rows[0].wal_level).toBe('logical');
      await db.query(`create table ${table} (id int primary key, note text not null)`);
      await db.query(`create publication ${publication} for table ${table}`);
      await db.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);

      const marker = `hello-${slot}`;
      await db.query(`insert into ${table} (id, note) values (1, $1)`, [marker]);

      const { rows } = await db.query<{ data: Buffer }>(
        `select data from pg_logical_slot_peek_binary_changes($1, null, null, 'proto_version', '1', 'publication_names', $2)`,
        [slot, publication],
      );
      // pgoutput messages: B(egin), R(elation), I(nsert), C(ommit).
      const kinds = rows.map((r) => String.fromCharCode(r.data[0]));
      expect(kinds).toEqual(['B', 'R', 'I', 'C']);
      const relation = rows[1].data;
      expect(relation.includes(Buffer.from(`${table}\0`))).toBe(true);
      const insert = rows[2].data;
      expect(insert.includes(Buffer.from(marker))).toBe(true);
    } finally {
      await db.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1`, [slot]).catch(() => undefined);
      await db.query(`drop publication if exists ${publication}`).catch(() => undefined);
      await db.query(`drop table if exists ${table}`).catch(() => undefined);
      await db.end();
    }
    const after = new Client({ connectionString: stackEnv().CDC_DATABASE_URL });
    await after.connect();
    try {
      expect((await after.query('select 1 from pg_replication_slots where slot_name = $1', [slot])).rowCount).toBe(0);
    } finally {
      await after.end();
    }
  });
});
