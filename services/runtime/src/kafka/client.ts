/**
 * Builds the `KafkaClient` the services use, for every role (consume, produce, transactions,
 * admin): KAFKA_CLIENT=confluent (the default) is @confluentinc/kafka-javascript, on librdkafka;
 * KAFKA_CLIENT=kafkajs is kafkajs 2.2.4 with the fix in patches/. docs/benchmarks.md, "Kafka client
 * on Node 24", has the measurements behind the default.
 */
import { TidewayError } from '../errors';
import type { Logger } from '../logger';
import { KafkajsClient, kafkaConfigFrom, type KafkaClientHooks, type KafkaConnectionSettings } from './kafkajs-client';
import type { KafkaClient } from './types';

export const KAFKA_CLIENTS = ['confluent', 'kafkajs'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

export interface KafkaClientChoice {
  /** @default 'confluent' */
  kafkaClient?: KafkaClientName;
}

export function createKafkaClient(s: KafkaConnectionSettings & KafkaClientChoice, logger: Logger, hooks: KafkaClientHooks = {}): KafkaClient {
  if ((s.kafkaClient ?? 'confluent') === 'kafkajs') return new KafkajsClient(kafkaConfigFrom(s, logger), hooks);
  // Loaded only when chosen: a native addon, an optional dependency built from source where no
  // prebuilt binary can be fetched (scripts/ensure-native-build-deps.sh).
  let mod: typeof import('./confluent-client');
  try {
    mod = require('./confluent-client') as typeof import('./confluent-client');
  } catch (err) {
    const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes('@confluentinc/kafka-javascript');
    if (!missing) throw err;
    throw new TidewayError(
      'DEPENDENCY_MISCONFIGURED',
      'KAFKA_CLIENT=confluent: @confluentinc/kafka-javascript is not installed (an optional dependency whose native build failed or was skipped): run scripts/ensure-native-build-deps.sh, then CKJS_LINKING=dynamic npm ci; or set KAFKA_CLIENT=kafkajs',
    );
  }
  return new mod.ConfluentClient(s, logger, hooks);
}
