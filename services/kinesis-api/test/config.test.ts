import { ConfigError, loadSettings } from '@tideway/runtime';
import { checkSettings, settings } from '../src/config';

const load = (env: Record<string, string>) => loadSettings(settings, { env });

describe('kinesis-api settings', () => {
  it('default to the documented values', () => {
    const s = load({});
    expect([s.port, s.host, s.auth, s.credentialsFile, s.streamPrefix, s.onDemandShards, s.defaultRetentionHours, s.iteratorSecretFile]).toEqual([
      4566,
      '127.0.0.1',
      'sigv4',
      '',
      '',
      4,
      24,
      '',
    ]);
    expect([s.shardLimits, s.writeBytesPerShard, s.writeRecordsPerShard, s.readBytesPerShard]).toEqual([false, 1024 * 1024, 1000, 2 * 1024 * 1024]);
    expect([s.tlsCertFile, s.tlsKeyFile, s.kafkaClientId]).toEqual(['', '', 'tideway-kinesis-api']);
  });

  it('reject bad values naming the setting', () => {
    expect(() => load({ KINESIS_API_AUTH: 'basic' })).toThrow('KINESIS_API_AUTH: must be one of sigv4, none, got "basic"');
    expect(() => load({ KINESIS_API_STREAM_PREFIX: 'a/b' })).toThrow(/^KINESIS_API_STREAM_PREFIX: must be letters, digits/);
    expect(() => load({ KINESIS_API_DEFAULT_RETENTION_HOURS: '9000' })).toThrow('KINESIS_API_DEFAULT_RETENTION_HOURS: must be ≤ 8760, got 9000');
    expect(() => load({ KINESIS_API_ON_DEMAND_SHARDS: '0' })).toThrow('KINESIS_API_ON_DEMAND_SHARDS: must be ≥ 1, got 0');
  });

  describe('checkSettings', () => {
    const base = { auth: 'sigv4' as const, credentialsFile: '/etc/keys', tlsCertFile: '', tlsKeyFile: '' };

    it('accepts sigv4 with a credentials file, and none without one', () => {
      expect(() => checkSettings(base)).not.toThrow();
      expect(() => checkSettings({ ...base, auth: 'none', credentialsFile: '' })).not.toThrow();
    });

    it('wants a credentials file with sigv4', () => {
      expect(() => checkSettings({ ...base, credentialsFile: '' })).toThrow(ConfigError);
      expect(() => checkSettings({ ...base, credentialsFile: '' })).toThrow(/^KINESIS_API_CREDENTIALS_FILE: is required with KINESIS_API_AUTH=sigv4/);
    });

    it('wants both TLS files or neither', () => {
      expect(() => checkSettings({ ...base, tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' })).not.toThrow();
      expect(() => checkSettings({ ...base, tlsCertFile: 'c.pem' })).toThrow(/^KINESIS_API_TLS_KEY_FILE: /);
      expect(() => checkSettings({ ...base, tlsKeyFile: 'k.pem' })).toThrow(/^KINESIS_API_TLS_CERT_FILE: /);
    });
  });
});
