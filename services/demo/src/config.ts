/**
 * Settings of `tideway demo`, the generator of realistic OLTP changes. Every setting has its
 * env name, doc, default and unit; `tideway demo --help` prints them.
 */
import { commonSettings, setting, settingProblem, type SettingsOf } from '@tideway/runtime';

/** One DEMO_RATE for `tideway demo` and `npm run demo`. */
export const demoRate = setting.number({
  env: 'DEMO_RATE',
  importance: 'common',
  doc: 'Changes written per second (inserts and updates over the three tables).',
  default: 20,
  min: 0.1,
  max: 10_000,
  unit: 'changes/s',
});
/** The generator's fraud share and seed, the same for `tideway demo` and `npm run demo`. */
export const demoFraudRatio = setting.number({
  env: 'DEMO_FRAUD_RATIO',
  importance: 'common',
  doc: 'Share of transactions that trip one of the fraud rules (amount over 50000, country mismatch, night hours).',
  default: 0.05,
  min: 0,
  max: 1,
});
export const demoSeed = setting.int({
  env: 'DEMO_SEED',
  importance: 'common',
  doc: 'Seed of the pseudo-random generator (0 = a random seed); the same seed gives the same changes.',
  default: 0,
  min: 0,
  max: 2 ** 31 - 1,
});

export const settings = {
  ...commonSettings('demo'),
  databaseUrl: setting.url({
    env: 'DEMO_DATABASE_URL',
    importance: 'required',
    doc: 'The OLTP database to write policies, claims and transactions into, postgres://user@host:port/database (the database cdc captures). Accepted only from the environment, as it may hold a password.',
    protocols: ['postgres', 'postgresql'],
    secret: true,
  }),
  schema: setting.string({
    env: 'DEMO_SCHEMA',
    importance: 'common',
    doc: 'Schema of the demo tables (created with the tables when missing).',
    default: 'public',
    pattern: /^[a-z_][a-z0-9_]{0,62}$/,
    patternHint: 'a lower-case SQL identifier (a-z, 0-9, _; at most 63)',
  }),
  rate: demoRate,
  maxChanges: setting.int({ env: 'DEMO_MAX_CHANGES', importance: 'common', doc: 'Stop after this many changes (0 = no limit).', default: 0, min: 0 }),
  durationMs: setting.duration({ env: 'DEMO_DURATION', importance: 'common', doc: 'Stop after this long (0 = no limit).', default: 0, min: 0 }),
  fraudRatio: demoFraudRatio,
  seed: demoSeed,
  idPrefix: setting.string({
    env: 'DEMO_ID_PREFIX',
    importance: 'tuning',
    doc: 'Prefix of the generated ids (policy, claim, transaction, account), so that several runs can share tables (default: the seed in base 36).',
    default: '',
    optional: true,
    pattern: /^[A-Za-z0-9-]{0,16}$/,
    patternHint: 'at most 16 letters, digits or -',
  }),
  batchMaxChanges: setting.int({
    env: 'DEMO_BATCH_MAX_CHANGES',
    importance: 'tuning',
    doc: 'Most changes written in one PostgreSQL transaction (the generator catches up in batches when behind).',
    default: 100,
    min: 1,
    max: 10_000,
  }),
};

export type DemoSettingsSchema = typeof settings;
export type DemoSettings = SettingsOf<DemoSettingsSchema>;

/** Cross-field checks; throws like a setting parser. */
export function checkDemoSettings(s: DemoSettings): void {
  if (s.rate * 0.1 > s.batchMaxChanges) settingProblem('DEMO_BATCH_MAX_CHANGES must be at least a tenth of DEMO_RATE');
}
