/**
 * AWS SDK v3 clients as the bridge needs them: the default credential chain only, endpoints
 * from the SDK's own settings (AWS_ENDPOINT_URL_KINESIS / _FIREHOSE / _S3, or AWS_ENDPOINT_URL),
 * and an HTTP/1.1 handler (kinesis-mock fails HTTP/2; HTTP/1.1 is fine against AWS too).
 * SDK-internal retries are off: the bridge retries itself, per record, without reordering.
 * The SDK's logger middleware is removed: with no logger configured it still copies every request's
 * input to filter it for logging (a measurable cost per record); the bridge logs requests itself.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KinesisProtocol } from './kinesis/put-records-protocol';

export interface AwsClientOptions {
  requestTimeoutMs: number;
  maxSockets: number;
}

function handler(o: AwsClientOptions): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: Math.min(10_000, o.requestTimeoutMs),
    requestTimeout: o.requestTimeoutMs,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets }),
  });
}

/** Takes out the SDK's logger middleware (see above). */
function withoutSdkLogging<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function kinesisClient(o: AwsClientOptions): KinesisClient {
  return withoutSdkLogging(new KinesisClient({ requestHandler: handler(o), maxAttempts: 1, protocol: KinesisProtocol }));
}

export function firehoseClient(o: AwsClientOptions): FirehoseClient {
  return withoutSdkLogging(new FirehoseClient({ requestHandler: handler(o), maxAttempts: 1 }));
}

export function s3Client(o: AwsClientOptions & { forcePathStyle: boolean }): S3Client {
  return withoutSdkLogging(new S3Client({ requestHandler: handler(o), maxAttempts: 1, forcePathStyle: o.forcePathStyle }));
}

/** True when an S3 endpoint other than AWS's is configured (then path-style is the default). */
export function hasCustomS3Endpoint(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}
