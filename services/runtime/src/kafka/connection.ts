/**
 * Kafka connection settings and what both client libraries need from them: SASL credentials
 * (checked once) and the TLS trust store (read once), whichever library connects.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';

export interface KafkaConnectionSettings {
  kafkaBrokers: string[];
  kafkaClientId: string;
  kafkaSaslMechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
  kafkaSaslUsername?: string;
  kafkaSaslPassword?: string;
  kafkaTls: boolean;
  kafkaTlsCaFile?: string;
  kafkaConnectionTimeoutMs: number;
}

export interface ConnectionSecurity {
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  tls: boolean;
  /** PEM of the CA certificates to trust, when KAFKA_TLS_CA_FILE is set (else the system store). */
  ca?: string;
}

/** Throws ConfigError (exit 2) naming the setting when credentials are missing or the CA file is unreadable. */
export function connectionSecurity(s: KafkaConnectionSettings): ConnectionSecurity {
  const out: ConnectionSecurity = { tls: s.kafkaTls };
  if (s.kafkaSaslMechanism !== 'none') {
    if (!s.kafkaSaslUsername) throw new ConfigError('KAFKA_SASL_USERNAME', `is required when KAFKA_SASL_MECHANISM=${s.kafkaSaslMechanism}`);
    if (!s.kafkaSaslPassword) throw new ConfigError('KAFKA_SASL_PASSWORD', `is required when KAFKA_SASL_MECHANISM=${s.kafkaSaslMechanism}`);
    out.sasl = { mechanism: s.kafkaSaslMechanism, username: s.kafkaSaslUsername, password: s.kafkaSaslPassword };
  }
  if (s.kafkaTls && s.kafkaTlsCaFile) {
    try {
      out.ca = readFileSync(s.kafkaTlsCaFile, 'utf8');
    } catch {
      throw new ConfigError('KAFKA_TLS_CA_FILE', `cannot read ${s.kafkaTlsCaFile}`);
    }
  }
  return out;
}
