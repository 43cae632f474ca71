/**
 * Small typed helpers for integration tests against the local stack (`npm run stack:up`).
 *
 *   stackEnv()        the connection settings (env var, else scripts/stack/stack.env)
 *   kinesisClient()   AWS SDK clients for kinesis-mock / moto, on HTTP/1.1
 *   firehoseClient()  (kinesis-mock fails the SDK's default HTTP/2 for Kinesis)
 *   s3Client()        path-style addressing (moto serves buckets on 127.0.0.1:5000/<bucket>)
 *   uniqueName(p)     a name no other test or run uses: topics, groups, streams, buckets, slots
 *   uniqueSuffix()    the unique part alone, to append to several names of one test
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomBytes } from 'node:crypto';

export interface StackEnv {
  KAFKA_BROKERS: string;
  CDC_DATABASE_URL: string;
  DWH_DATABASE_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_ENDPOINT_URL_KINESIS: string;
  AWS_ENDPOINT_URL_FIREHOSE: string;
  AWS_ENDPOINT_URL_S3: string;
}

const loader = require('./load-stack-env.js') as { stackEnv(): Record<string, string> };

/** The stack's settings: each variable from process.env when set, else from scripts/stack/stack.env. */
export function stackEnv(): StackEnv {
  return loader.stackEnv() as unknown as StackEnv;
}

/** The Kafka bootstrap servers as a list, for `new Kafka({ brokers })`. */
export function kafkaBrokers(): string[] {
  return stackEnv().KAFKA_BROKERS.split(',');
}

function awsClientConfig(endpoint: string) {
  const env = stackEnv();
  return {
    region: env.AWS_REGION,
    endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
  };
}

/** A Kinesis client for kinesis-mock. Call `.destroy()` when done. */
export function kinesisClient(): KinesisClient {
  return new KinesisClient(awsClientConfig(stackEnv().AWS_ENDPOINT_URL_KINESIS));
}

/** A Firehose client for moto. Call `.destroy()` when done. */
export function firehoseClient(): FirehoseClient {
  return new FirehoseClient(awsClientConfig(stackEnv().AWS_ENDPOINT_URL_FIREHOSE));
}

/** An S3 client for moto (path-style). Call `.destroy()` when done. */
export function s3Client(): S3Client {
  return new S3Client({ ...awsClientConfig(stackEnv().AWS_ENDPOINT_URL_S3), forcePathStyle: true });
}

let counter = 0;

/**
 * A fresh name: `<prefix><sep><time><sep><pid><sep><n><sep><random>`, lower case, e.g.
 * `orders-m3x9k2ab-1f2c-1-9a3e`. Safe for Kafka topics, Kinesis/Firehose streams and S3 buckets
 * (keep the prefix short: buckets allow 63 characters). For PostgreSQL identifiers (slots,
 * publications, tables) pass `'_'` as the separator: `uniqueName('slot', '_')`.
 */
export function uniqueName(prefix: string, separator: '-' | '_' = '-'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, separator);
  return `${clean}${separator}${uniqueSuffix(separator)}`;
}

/**
 * The unique part of `uniqueName` alone (`m3x9k2ab_1f2c_1_9a3e`), for a test that derives several
 * names from one id. The default separator `_` suits PostgreSQL identifiers and Kafka names alike;
 * S3 buckets need `-`.
 */
export function uniqueSuffix(separator: '-' | '_' = '_'): string {
  counter += 1;
  return [Date.now().toString(36), process.pid.toString(36), counter.toString(36), randomBytes(2).toString('hex')].join(separator);
}
