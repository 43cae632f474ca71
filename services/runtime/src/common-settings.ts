/**
 * Settings every service shares: Kafka connection, logging, the HTTP endpoint, shutdown.
 * A service's schema spreads `commonSettings('<service>')` and adds its own.
 */
import { setting, settingProblem } from './config';
import { KAFKA_CLIENTS } from './kafka/client';

export function commonSettings(service: string) {
  return {
    kafkaBrokers: setting.list({
      env: 'KAFKA_BROKERS',
      importance: 'common',
      doc: 'Kafka bootstrap servers, host:port, comma-separated.',
      default: ['127.0.0.1:9092'],
      item: (v) => {
        if (!/^[^\s:]+:\d{1,5}$/.test(v)) settingProblem(`each broker must be host:port, got "${v}"`);
      },
    }),
    kafkaClientId: setting.string({
      env: 'KAFKA_CLIENT_ID',
      importance: 'tuning',
      doc: 'Client id sent to Kafka (shows up in broker logs and quotas).',
      default: `tideway-${service}`,
    }),
    kafkaSaslMechanism: setting.enum({
      env: 'KAFKA_SASL_MECHANISM',
      importance: 'common',
      doc: 'SASL mechanism; `none` disables SASL.',
      values: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const,
      default: 'none',
    }),
    kafkaSaslUsername: setting.string({
      env: 'KAFKA_SASL_USERNAME',
      importance: 'common',
      doc: 'SASL username (required when KAFKA_SASL_MECHANISM is not none).',
      optional: true,
      default: '',
    }),
    kafkaSaslPassword: setting.string({
      env: 'KAFKA_SASL_PASSWORD',
      importance: 'common',
      doc: 'SASL password (or mount it and use the orchestrator to set this variable from a secret).',
      optional: true,
      secret: true,
      default: '',
    }),
    kafkaTls: setting.bool({ env: 'KAFKA_TLS', importance: 'common', doc: 'Connect to Kafka over TLS.', default: false }),
    kafkaTlsCaFile: setting.string({
      env: 'KAFKA_TLS_CA_FILE',
      importance: 'common',
      doc: 'PEM file of CA certificates to trust for Kafka TLS (default: the system store).',
      optional: true,
      default: '',
    }),
    kafkaClient: setting.enum({
      env: 'KAFKA_CLIENT',
      importance: 'tuning',
      doc: 'Kafka client library, for every role: `confluent` (@confluentinc/kafka-javascript on librdkafka) or `kafkajs` (kafkajs 2.2.4, patched). Both partition keys as the Java client does (murmur2). The members of one consumer group must all use the same one (their partition assignors differ).',
      values: KAFKA_CLIENTS,
      default: 'confluent',
    }),
    kafkaConnectionTimeoutMs: setting.duration({
      env: 'KAFKA_CONNECTION_TIMEOUT_MS',
      importance: 'tuning',
      doc: 'Timeout for establishing a connection to a broker.',
      default: 10_000,
      min: 100,
    }),
    logLevel: setting.enum({
      env: 'LOG_LEVEL',
      importance: 'common',
      doc: 'Minimum level of JSON log lines written to stdout.',
      values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      default: 'info',
    }),
    metricsPort: setting.int({
      env: 'METRICS_PORT',
      importance: 'common',
      doc: 'Port of the HTTP server for /metrics, /healthz and /readyz (0 = pick a free port).',
      default: 9464,
      min: 0,
      max: 65535,
    }),
    metricsHost: setting.string({
      env: 'METRICS_HOST',
      importance: 'common',
      doc: 'Address the HTTP server binds to (0.0.0.0 in containers).',
      default: '127.0.0.1',
    }),
    shutdownTimeoutMs: setting.duration({
      env: 'SHUTDOWN_TIMEOUT_MS',
      importance: 'tuning',
      doc: 'Longest a graceful shutdown may take before the process exits anyway.',
      default: 30_000,
      min: 100,
    }),
  };
}

export type CommonSettingsSchema = ReturnType<typeof commonSettings>;
