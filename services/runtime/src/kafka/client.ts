/**
 * Builds the `KafkaClient` the services use: kafkajs for consumers and admin, and the producer
 * chosen by KAFKA_PRODUCER_CLIENT (see docs/benchmarks.md, "Kafka client", for why the default
 * is @platformatic/kafka).
 */
import type { Logger } from '../logger';
import { KafkajsClient, kafkaConfigFrom, type KafkaClientHooks, type KafkaConnectionSettings } from './kafkajs-client';
import { PlatformaticKafkaProducer } from './platformatic-producer';
import type { KafkaClient } from './types';

export const PRODUCER_CLIENTS = ['platformatic', 'kafkajs'] as const;
export type ProducerClientName = (typeof PRODUCER_CLIENTS)[number];

export function createKafkaClient(s: KafkaConnectionSettings & { kafkaProducerClient: ProducerClientName }, logger: Logger, hooks: KafkaClientHooks = {}): KafkaClient {
  const kafkajs = new KafkajsClient(kafkaConfigFrom(s, logger), hooks);
  if (s.kafkaProducerClient === 'kafkajs') return kafkajs;
  return {
    producer: (options) => new PlatformaticKafkaProducer(s, options),
    consumer: (options) => kafkajs.consumer(options),
    admin: () => kafkajs.admin(),
  };
}
