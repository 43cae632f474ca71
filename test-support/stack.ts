/**
 * Small typed helpers for integration tests against the local stack (`npm run stack:up`).
 *
 *   stackEnv()        the connection settings (env var, else scripts/stack/stack.env)
 *   kinesisClient()   AWS SDK clients for kinesis-mock / moto, on HTTP/1.1
 *   firehoseClient()  (kinesis-mock fails the SDK's default HTTP/2 for Kinesis)
 *   s3Client()        path-style addressing (moto serves buckets on 127.0.0.1:5000/<bucket>)
 *   uniqueName(p)     a name no other test or run uses: topics, streams, buckets, slots
 *   waitFor(fn)       poll until fn returns a value (not undefined/false/null) or time out
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
  counter += 1;
  const parts = [Date.now().toString(36), process.pid.toString(36), counter.toString(36), randomBytes(2).toString('hex')];
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, separator);
  return [clean, ...parts].join(separator);
}

export interface WaitForOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 200 ms). */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/**
 * Calls `fn` until it returns a value other than `undefined`, `null` or `false`, and returns
 * that value. A throw counts as "not yet"; the last error is reported on timeout.
 */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitForOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`waitFor: ${what} not reached within ${timeoutMs} ms${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
