/**
 * Two loaders in one consumer group split a 4-partition topic while changes keep arriving; then
 * one is stopped and the other takes its partitions over. Every change must land exactly once
 * (history mode makes a duplicate or a gap visible), and the upsert state must match.
 */
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers } from '../../../test-support/stack';
import { eventually, loaderSuite, metricValue, startLoader, suffix, type InProcessLoader } from './harness';
import { mixedWorkload, sortedRows } from './workload';

jest.setTimeout(300_000);

const EVENTS = 8_000;

describe('two dwh-loaders in one group', () => {
  const suite = loaderSuite();
  const { topics, schemas, loaders } = suite;

  it.each(['history', 'upsert'] as const)('%s: split partitions, survive one leaving, apply every change once', async (mode) => {
    const topic = await topics.topic(`dwh-group-${mode}`, 4);
    const schema = `dwh_group_${mode}_${suffix()}`;
    schemas.push(schema);
    const env = {
      DWH_TOPICS: topic,
      DWH_SCHEMA: schema,
      DWH_MODE: mode,
      DWH_GROUP_ID: `${schema}-group`,
      DWH_BATCH_MAX_ROWS: '200',
      DWH_BATCH_MAX_WAIT_MS: '50',
      DWH_SESSION_TIMEOUT_MS: '10000',
    };
    const work = mixedWorkload(topic, 500, EVENTS, 7);
    const stored = async () =>
      Number(
        (await suite.db.query(`SELECT coalesce(sum(next_offset),0)::int AS n FROM "${schema}"._tideway_offsets`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n,
      );

    const a = await startLoader(env);
    loaders.push(a);
    const b = await startLoader(env);
    loaders.push(b);
    // Both hold partitions before anything is produced: a client that joins fast would otherwise
    // let `a` read the first half alone before `b` joins.
    const groupAdmin = new Kafka({ clientId: 'dwh-group-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await groupAdmin.connect();
    try {
      await eventually(
        async () => {
          const [g] = (await groupAdmin.describeGroups([env.DWH_GROUP_ID])).groups;
          return g.state === 'Stable' && g.members.length === 2;
        },
        async () => `group ${env.DWH_GROUP_ID} not stable with 2 members`,
      );
    } finally {
      await groupAdmin.disconnect();
    }
    const applied = (l: InProcessLoader) => metricValue(l.registry, 'tideway_dwh_rows_applied_total');

    // Produce in slices while both run; stop `b` halfway through.
    let sent = 0;
    const slice = 250;
    while (sent < EVENTS / 2) {
      await topics.producer.send(work.messages.slice(sent, sent + slice));
      sent += slice;
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(
      async () => (await applied(a)) > 0 && (await applied(b)) > 0,
      async () => `applied a=${await applied(a)} b=${await applied(b)}`,
    );
    await b.stop();
    loaders.splice(loaders.indexOf(b), 1);
    while (sent < EVENTS) {
      await topics.producer.send(work.messages.slice(sent, sent + slice));
      sent += slice;
    }
    await eventually(
      async () => (await stored()) === EVENTS,
      async () => `stored ${await stored()} of ${EVENTS}`,
      180_000,
    );

    if (mode === 'history') {
      const h = await suite.db.query(`SELECT count(*)::int AS n, count(DISTINCT (_tideway_partition, _tideway_offset))::int AS d FROM "${schema}".policies`);
      expect(h.rows[0]).toEqual({ n: EVENTS, d: EVENTS });
    } else {
      const got = await suite.db.query(`SELECT id, holder, premium::text AS premium, version FROM "${schema}".policies ORDER BY id`);
      expect(got.rows).toEqual(sortedRows(work.expected));
    }
    // Both applied a share; together with the warehouse check above nothing was applied twice.
    expect(await applied(b)).toBeGreaterThan(0);
    expect(await applied(a)).toBeGreaterThan(0);
  });
});
