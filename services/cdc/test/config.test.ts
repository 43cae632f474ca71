import { loadSettings, ConfigError } from '@tideway/runtime';
import { cdcSettings, splitTableName } from '../src/config';

const env = { CDC_DATABASE_URL: 'postgres://u@127.0.0.1:5432/app' };

function problem(extra: Record<string, string>): string {
  try {
    loadSettings(cdcSettings, { env: { ...env, ...extra } });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'no error';
}

describe('cdc settings', () => {
  it('has the documented defaults', () => {
    const s = loadSettings(cdcSettings, { env });
    expect(s).toMatchObject({
      tables: [],
      slot: 'tideway',
      publication: 'tideway',
      snapshot: 'initial',
      topicTemplate: '{table}.changes',
      topicPartitions: 3,
      tombstones: true,
      heartbeatMs: 10_000,
    });
  });

  it('names the setting in one line when a value is bad', () => {
    expect(problem({ CDC_SLOT: 'Bad-Slot' })).toMatch(/^CDC_SLOT: must be 1-63 lower-case letters/);
    expect(problem({ CDC_TABLES: 'policies' })).toMatch(/^CDC_TABLES: each table must be schema.table/);
    expect(problem({ CDC_SNAPSHOT: 'always' })).toMatch(/^CDC_SNAPSHOT: must be one of initial, never/);
    expect(problem({ CDC_TOPIC_TEMPLATE: 'changes' })).toMatch(/^CDC_TOPIC_TEMPLATE: must be a template containing \{table\}/);
    expect(problem({ CDC_DATABASE_URL: 'mysql://x' })).toMatch(/^CDC_DATABASE_URL: must use postgres or postgresql/);
    expect(problem({ CDC_TOPIC_PARTITIONS: '0' })).toMatch(/^CDC_TOPIC_PARTITIONS: must be ≥ 1/);
  });

  it('splits schema.table at the first dot', () => {
    expect(splitTableName('public.policies')).toEqual({ schema: 'public', table: 'policies' });
  });
});
