/** Settings of `npm run demo` (environment variables; `npm run demo -- --help` lists them). */
import { setting } from '@tideway/runtime';
import { demoFraudRatio, demoRate, demoSeed } from '../config';

export const pipelineSettings = {
  rate: demoRate,
  durationMs: setting.duration({ env: 'DEMO_DURATION', importance: 'common', doc: 'How long the generator runs.', default: 60_000, min: 1000 }),
  fraudRatio: demoFraudRatio,
  seed: demoSeed,
  settleTimeoutMs: setting.duration({
    env: 'DEMO_SETTLE_TIMEOUT',
    importance: 'tuning',
    doc: 'After the generator stops, how long to wait for every destination to catch up.',
    default: 180_000,
    min: 1000,
  }),
  progressIntervalMs: setting.duration({
    env: 'DEMO_PROGRESS_INTERVAL',
    importance: 'tuning',
    doc: 'How often the progress line is printed.',
    default: 3000,
    min: 500,
  }),
};
