import { bridgeRoutes, fraudRules, kinesisApiStream, planFor, serviceEnv } from '../../src/pipeline/pipeline-plan';

test('every name of a run carries the run id', () => {
  const plan = planFor('ab12cd34');
  const names = [
    plan.schema,
    plan.slot,
    plan.alertsTopic,
    plan.kinesisStream,
    plan.deliveryStream,
    plan.firehoseBucket,
    plan.lakeBucket,
    plan.groupPrefix,
    ...Object.values(plan.topics),
  ];
  for (const n of names) expect(n).toContain('ab12cd34');
  expect(new Set(names).size).toBe(names.length - 1); // the slot is named like the schema
});

test('a run id that could break a name is refused', () => {
  expect(() => planFor('AB')).toThrow(/run id/);
  expect(() => planFor('a;b1')).toThrow(/run id/);
});

test('the rules read the run’s transactions topic; the routes send each table to its destination', () => {
  const plan = planFor('run1');
  const rules = (fraudRules(plan) as { rules: { id: string; topic: string }[] }).rules;
  expect(rules.map((r) => r.id)).toEqual(['amount-over-threshold', 'country-mismatch', 'night-hours']);
  expect(new Set(rules.map((r) => r.topic))).toEqual(new Set([plan.topics.transactions]));
  const routes = (bridgeRoutes(plan) as { routes: Record<string, unknown>[] }).routes;
  expect(routes.map((r) => [(r.topics as string[])[0], Object.keys(r).find((k) => ['kinesis', 'firehose', 's3'].includes(k))])).toEqual([
    [plan.topics.transactions, 'kinesis'],
    [plan.topics.claims, 'firehose'],
    [plan.topics.policies, 's3'],
  ]);
  const env = serviceEnv(plan, { rules: '/r.yaml', routes: '/routes.yaml' }, { kinesisApi: 45123 });
  expect(env.cdc.CDC_TABLES).toBe('demo_run1.policies,demo_run1.claims,demo_run1.transactions');
  expect(env['dwh-loader'].DWH_TOPICS.split(',')).toEqual([plan.topics.policies, plan.topics.claims, plan.topics.transactions]);
});

test('the Kinesis API serves the run’s transactions topic as a stream of the same name, unauthenticated on its own port', () => {
  const plan = planFor('run1');
  expect(kinesisApiStream(plan)).toBe(plan.topics.transactions);
  expect(serviceEnv(plan, { rules: '/r.yaml', routes: '/routes.yaml' }, { kinesisApi: 45123 })['kinesis-api']).toEqual({
    KINESIS_API_AUTH: 'none',
    KINESIS_API_HOST: '127.0.0.1',
    KINESIS_API_PORT: '45123',
    KINESIS_API_STREAM_PREFIX: '',
  });
});
