import { Registry } from 'prom-client';
import { DependencyHealth } from '../src/dependency-health';
import { TidewayError } from '../src/errors';
import { Readiness } from '../src/http-server';
import type { Logger } from '../src/logger';

function setup() {
  const lines: Array<[string, string]> = [];
  const log = (level: string) => (_fields: unknown, msg: string) => void lines.push([level, msg]);
  const logger = { warn: log('warn'), info: log('info') } as unknown as Logger;
  const registry = new Registry();
  const readiness = new Readiness();
  return { lines, registry, readiness, health: new DependencyHealth(registry, readiness, logger) };
}

const metric = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values;

describe('DependencyHealth', () => {
  it('logs once when a dependency goes down and once when it is back, however many attempts', async () => {
    const { lines, health, readiness, registry } = setup();
    health.down('kafka', 'subscribe', new Error('This server does not host this topic-partition'));
    health.down('kafka', 'subscribe', new Error('This server does not host this topic-partition'));
    health.down('kafka', 'admin connect', new Error('ECONNREFUSED'));
    expect(lines).toEqual([['warn', 'kafka unavailable: This server does not host this topic-partition; retrying']]);
    expect(await readiness.evaluate()).toEqual({
      ready: false,
      checks: { 'dependency:kafka': false },
      reasons: { 'dependency:kafka': 'admin connect: ECONNREFUSED' },
    });
    expect(await metric(registry, 'tideway_dependency_up')).toEqual([{ labels: { dependency: 'kafka' }, value: 0 }]);

    health.ok('kafka', 'subscribe');
    expect((await readiness.evaluate()).reasons).toEqual({ 'dependency:kafka': 'admin connect: ECONNREFUSED' });
    health.ok('kafka', 'admin connect');
    expect(lines).toEqual([
      ['warn', 'kafka unavailable: This server does not host this topic-partition; retrying'],
      ['info', 'kafka available again'],
    ]);
    expect(await readiness.evaluate()).toEqual({ ready: true, checks: {} });
    expect(await metric(registry, 'tideway_dependency_up')).toEqual([{ labels: { dependency: 'kafka' }, value: 1 }]);
    const retries = await metric(registry, 'tideway_dependency_retries_total');
    expect(retries.map((r) => [r.labels.operation, r.value])).toEqual([
      ['subscribe', 2],
      ['admin connect', 1],
    ]);
  });

  it('retry() retries what passes and rethrows what must stop, leaving no problem behind', async () => {
    const { health, readiness } = setup();
    let calls = 0;
    const policy = { initialMs: 1, maxMs: 1, multiplier: 1 };
    await expect(
      health.retry('postgres', 'connect', async () => (++calls < 3 ? Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })) : 'up'), {
        policy,
      }),
    ).resolves.toBe('up');
    expect(calls).toBe(3);
    const fatal = new TidewayError('STATE_LOST', 'replication slot lost: drop it and restart');
    await expect(health.retry('postgres', 'slot', () => Promise.reject(fatal), { policy })).rejects.toBe(fatal);
    expect((await readiness.evaluate()).ready).toBe(true);
  });
});
