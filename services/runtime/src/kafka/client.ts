/**
 * Builds the `KafkaClient` the services use. KAFKA_CLIENT=kafkajs (the default): kafkajs for
 * consumers and admin, and the producer chosen by KAFKA_PRODUCER_CLIENT (see docs/benchmarks.md,
 * "Kafka client", for why that default is @platformatic/kafka). KAFKA_CLIENT=confluent:
 * @confluentinc/kafka-javascript (librdkafka) for every role.
 */
import { TidewayError } from '../errors';
import type { Logger } from '../logger';
import { KafkajsClient, kafkaConfigFrom, type KafkaClientHooks, type KafkaConnectionSettings } from './kafkajs-client';
import { PlatformaticKafkaProducer } from './platformatic-producer';
import type { KafkaClient } from './types';

export const KAFKA_CLIENTS = ['kafkajs', 'confluent'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];
export const PRODUCER_CLIENTS = ['platformatic', 'kafkajs'] as const;
export type ProducerClientName = (typeof PRODUCER_CLIENTS)[number];

export interface KafkaClientChoice {
  /** @default 'kafkajs' */
  kafkaClient?: KafkaClientName;
  /** Only with kafkaClient 'kafkajs'. */
  kafkaProducerClient: ProducerClientName;
}

export function createKafkaClient(s: KafkaConnectionSettings & KafkaClientChoice, logger: Logger, hooks: KafkaClientHooks = {}): KafkaClient {
  if (s.kafkaClient === 'confluent') {
    // Loaded only when chosen: it loads a native addon, an optional dependency built from source
    // where no prebuilt binary can be fetched (scripts/ensure-native-build-deps.sh).
    let mod: typeof import('./confluent-client');
    try {
      mod = require('./confluent-client') as typeof import('./confluent-client');
    } catch (err) {
      const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes('@confluentinc/kafka-javascript');
      if (!missing) throw err;
      throw new TidewayError(
        'DEPENDENCY_MISCONFIGURED',
        'KAFKA_CLIENT=confluent: @confluentinc/kafka-javascript is not installed (an optional dependency whose native build failed or was skipped): run scripts/ensure-native-build-deps.sh, then CKJS_LINKING=dynamic npm ci',
      );
    }
    return new mod.ConfluentClient(s, logger, hooks);
  }
  const kafkajs = new KafkajsClient(kafkaConfigFrom(s, logger), hooks);
  if (s.kafkaProducerClient === 'kafkajs') return kafkajs;
  return {
    producer: (options) => new PlatformaticKafkaProducer(s, options),
    consumer: (options) => kafkajs.consumer(options),
    admin: () => kafkajs.admin(),
  };
}
