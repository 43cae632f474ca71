import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { ServiceContext } from '@tideway/runtime';
import type { settings } from '../src/config';
import { definition } from '../src/main';
import { silentLogger } from './support/pipeline-fixture';

const RULES = join(__dirname, '..', '..', '..', 'examples', 'rules', 'fraud.yaml');

describe('alerting start', () => {
  it('leaves no SIGHUP listener behind when a start attempt fails (the runtime retries it from scratch)', async () => {
    const before = process.listenerCount('SIGHUP');
    const ctx = {
      name: 'alerting',
      settings: { rulesFile: RULES, watchRules: false, watchIntervalMs: 1000 },
      logger: silentLogger,
      registry: new Registry(),
      readiness: { set: () => undefined, flag: () => () => undefined },
      kafka: {},
      health: {
        retry: async () => {
          throw new Error('kafka unavailable');
        },
      },
      signal: new AbortController().signal,
      fail: () => undefined,
    } as unknown as ServiceContext<typeof settings>;
    await expect(definition.start(ctx)).rejects.toThrow('kafka unavailable');
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
