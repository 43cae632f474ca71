/** `tideway kinesis-api`: the Kinesis Data Streams API (and the Firehose API) over HTTP, every record kept in Kafka. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, ignoreFailure, runService, type ServiceDefinition } from '@tideway/runtime';
import { parseCredentials } from './auth/credentials';
import { checkSettings, settings, type KinesisApiSettings } from './config';
import { ApiServer } from './http/api-server';
import { ShardLimits } from './limits';
import { KinesisApiMetrics } from './metrics';
import type { OperationContext } from './operations/context';
import { parseIteratorSecret } from './shard-iterator';
import { StreamStore } from './stream-store';

/** How often Kafka is asked whether it answers, so /readyz shows an outage while no client calls. */
const PROBE_INTERVAL_MS = 5000;
/** How often idle shards' limit state is dropped. */
const LIMITS_PRUNE_INTERVAL_MS = 60_000;

function readSettingFile(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(setting, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function iteratorSecret(s: KinesisApiSettings): Buffer {
  if (s.iteratorSecretFile === '') return randomBytes(32);
  const secret = parseIteratorSecret(readSettingFile('KINESIS_API_ITERATOR_SECRET_FILE', s.iteratorSecretFile));
  if (!secret) throw new ConfigError('KINESIS_API_ITERATOR_SECRET_FILE', `${s.iteratorSecretFile} must hold a key of at least 32 bytes`);
  return secret;
}

export const definition: ServiceDefinition<typeof settings> = {
  name: 'kinesis-api',
  summary: 'the Kinesis Data Streams and Firehose APIs over HTTP, every record kept in Kafka',
  settings,
  async start(ctx) {
    const { settings: s, logger } = ctx;
    checkSettings(s);
    const credentials =
      s.auth === 'sigv4' ? parseCredentials(readSettingFile('KINESIS_API_CREDENTIALS_FILE', s.credentialsFile), s.credentialsFile) : undefined;
    const tls =
      s.tlsCertFile === ''
        ? undefined
        : {
            cert: Buffer.from(readSettingFile('KINESIS_API_TLS_CERT_FILE', s.tlsCertFile)),
            key: Buffer.from(readSettingFile('KINESIS_API_TLS_KEY_FILE', s.tlsKeyFile)),
          };
    const secret = iteratorSecret(s);
    const metrics = new KinesisApiMetrics(ctx.registry);
    const nowMs = () => Date.now();
    const limits = s.shardLimits
      ? new ShardLimits(
          { writeBytesPerSecond: s.writeBytesPerShard, writeRecordsPerSecond: s.writeRecordsPerShard, readBytesPerSecond: s.readBytesPerShard },
          nowMs,
        )
      : undefined;

    const store = new StreamStore({ kafka: ctx.kafka, prefix: s.streamPrefix, health: ctx.health, logger, writeTimeoutMs: s.writeTimeoutMs });
    const server = new ApiServer({
      host: s.host,
      port: s.port,
      credentials,
      tls,
      logger,
      metrics,
      nowMs,
      context: (region): OperationContext => ({
        store,
        metrics,
        limits,
        iteratorSecret: secret,
        iteratorTtlMs: s.iteratorTtlMs,
        onDemandShards: s.onDemandShards,
        firehosePartitions: s.firehosePartitions,
        defaultRetentionHours: s.defaultRetentionHours,
        nowMs,
        region,
      }),
    });
    try {
      await store.connect(ctx.signal);
      const port = await server.listen();
      logger.info({ host: s.host, port, tls: tls !== undefined, auth: s.auth, streamPrefix: s.streamPrefix }, 'kinesis api listening');
    } catch (err) {
      await server.close().catch(ignoreFailure(logger, 'closing the API server'));
      await store.close();
      throw err;
    }
    const probe = setInterval(() => void store.probe().catch(() => undefined), PROBE_INTERVAL_MS);
    const prune = setInterval(() => limits?.prune(), LIMITS_PRUNE_INTERVAL_MS);
    probe.unref();
    prune.unref();

    return {
      async stop() {
        clearInterval(probe);
        clearInterval(prune);
        await server.close();
        await store.close();
      },
    };
  },
};

export function main(argv: string[]) {
  return runService(definition, argv);
}
