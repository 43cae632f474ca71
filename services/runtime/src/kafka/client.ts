/**
 * Builds the `KafkaClient` the services use. KAFKA_CLIENT=kafkajs (the default): kafkajs for
 * consumers and admin, and the producer chosen by KAFKA_PRODUCER_CLIENT (see docs/benchmarks.md,
 * "Kafka client", for why that default is @platformatic/kafka). KAFKA_CLIENT=confluent:
 * @confluentinc/kafka-javascript (librdkafka) for every role.
 */
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
    // Loaded only when chosen: it loads a native addon.
    const { ConfluentClient } = require('./confluent-client') as typeof import('./confluent-client');
    return new ConfluentClient(s, logger, hooks);
  }
  const kafkajs = new KafkajsClient(kafkaConfigFrom(s, logger), hooks);
  if (s.kafkaProducerClient === 'kafkajs') return kafkajs;
  return {
    producer: (options) => new PlatformaticKafkaProducer(s, options),
    consumer: (options) => kafkajs.consumer(options),
    admin: () => kafkajs.admin(),
  };
}
