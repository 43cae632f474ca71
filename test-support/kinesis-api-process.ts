/**
 * `tideway kinesis-api` as a real process for the integration tests: on free ports, under a stream
 * prefix of the test's own, with a credentials file of one key (or no authentication), and clients
 * that reach it as any Kinesis or Firehose application does.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { freePort } from './free-port';
import { uniqueName } from './stack';
import { writeTempFile } from './temp-file';
import { TidewayProcess } from './tideway-process';

export const ACCESS_KEY_ID = 'AKIATIDEWAYTEST00001';
export const SECRET_ACCESS_KEY = 'tideway-test-secret-0123456789abcdefghij';

export interface KinesisApi {
  readonly proc: TidewayProcess;
  readonly endpoint: string;
  /** Topic prefix of this instance's streams. */
  readonly prefix: string;
  /** A client signing with the configured key (or `credentials`); HTTP/2 unless `http1`. */
  client(options?: { credentials?: { accessKeyId: string; secretAccessKey: string }; http1?: boolean; maxAttempts?: number }): KinesisClient;
  /** A Firehose client signing with the configured key. */
  firehose(): FirehoseClient;
  /** The environment an aws CLI / boto3 / Java SDK process needs to reach this instance (Kinesis and Firehose). */
  clientEnv(): NodeJS.ProcessEnv;
}

export async function startKinesisApi(
  options: { auth?: 'sigv4' | 'none'; env?: NodeJS.ProcessEnv; prefix?: string; /** A fixed port (a restart behind the same endpoint). */ port?: number } = {},
): Promise<KinesisApi> {
  const port = options.port ?? (await freePort());
  const prefix = options.prefix ?? `${uniqueName('kapi')}.`;
  const credentialsFile = writeTempFile('kinesis-credentials', `# test key\n${ACCESS_KEY_ID}:${SECRET_ACCESS_KEY}\n`);
  const proc = await TidewayProcess.start('kinesis-api', {
    KINESIS_API_PORT: String(port),
    KINESIS_API_HOST: '127.0.0.1',
    KINESIS_API_STREAM_PREFIX: prefix,
    KINESIS_API_AUTH: options.auth ?? 'sigv4',
    KINESIS_API_CREDENTIALS_FILE: credentialsFile,
    ...options.env,
  });
  try {
    await proc.waitReady(120_000);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    proc,
    endpoint,
    prefix,
    client: (o = {}) =>
      new KinesisClient({
        endpoint,
        region: 'eu-west-1',
        credentials: o.credentials ?? { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
        maxAttempts: o.maxAttempts,
        ...(o.http1 ? { requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }) } : {}),
      }),
    firehose: () => new FirehoseClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } }),
    clientEnv: () => ({
      AWS_ENDPOINT_URL_KINESIS: endpoint,
      AWS_ENDPOINT_URL_FIREHOSE: endpoint,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    }),
  };
}
