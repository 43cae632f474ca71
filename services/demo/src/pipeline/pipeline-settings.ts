/** Settings of `npm run demo` (environment variables; `npm run demo -- --help` lists them). */
import { setting } from '@tideway/runtime';
import { demoRate } from '../config';

export const pipelineSettings = {
  rate: demoRate,
  durationMs: setting.duration({ env: 'DEMO_DURATION', importance: 'common', doc: 'How long the generator runs.', default: 60_000, min: 1000 }),
  fraudRatio: setting.number({ env: 'DEMO_FRAUD_RATIO', importance: 'common', doc: 'Share of transactions that trip a fraud rule.', default: 0.05, min: 0, max: 1 }),
  seed: setting.int({ env: 'DEMO_SEED', importance: 'common', doc: 'Seed of the generator (0 = random).', default: 0, min: 0, max: 2 ** 31 - 1 }),
  settleTimeoutMs: setting.duration({ env: 'DEMO_SETTLE_TIMEOUT', importance: 'tuning', doc: 'After the generator stops, how long to wait for every destination to catch up.', default: 180_000, min: 1000 }),
  progressIntervalMs: setting.duration({ env: 'DEMO_PROGRESS_INTERVAL', importance: 'tuning', doc: 'How often the progress line is printed.', default: 3000, min: 500 }),
};
