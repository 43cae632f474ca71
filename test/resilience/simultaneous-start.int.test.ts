/**
 * `docker compose up` on a fresh broker: cdc, dwh-loader, alerting and bridge start at the same
 * instant, seconds after the broker, on topics that do not exist yet (they create and subscribe to
 * them concurrently while the topics' metadata propagates). Repeated ROUNDS times with new names
 * every round, on a just-started private broker every BROKER_EVERY rounds: no service may exit,
 * and each round's rows must reach the warehouse, raise their alerts and land in Kinesis.
 */
import { PrivateKafka } from '../../test-support/private-kafka';
import {
  ALERT_AMOUNT_OVER,
  dropPipeline,
  exitedServices,
  insertPipelineRows,
  planPipeline,
  preparePipelineSource,
  sourceRows,
  startPipelineServices,
  stopPipelineServices,
  streamIds,
  TopicCollector,
  warehouseRows,
  type PipelinePlan,
  type PipelineRow,
  type PipelineService,
} from '../../test-support/pipeline-services';
import type { TidewayProcess } from '../../test-support/tideway-process';

const ROUNDS = Number(process.env.RESILIENCE_ROUNDS ?? 20);
const BROKER_EVERY = 5;
/** Generous: a round on a loaded 2-core machine takes seconds; this only bounds a hang. */
const ROUND_DEADLINE_MS = 180_000;

jest.setTimeout(60 * 60_000);

interface Progress {
  warehouse: string[];
  alerts: number;
  stream: number[];
}

async function untilDelivered(
  procs: Record<PipelineService, TidewayProcess>,
  expect: { rows: string[]; alerts: number; ids: number[] },
  alerts: TopicCollector,
  p: PipelinePlan,
): Promise<Progress> {
  const deadline = Date.now() + ROUND_DEADLINE_MS;
  for (;;) {
    const exited = exitedServices(procs);
    if (exited.length > 0) throw new Error(`a service exited:\n${exited.join('\n')}`);
    const last: Progress = {
      warehouse: await warehouseRows(p),
      alerts: new Set(alerts.records.map((m) => m.key?.toString())).size,
      stream: await streamIds(p),
    };
    if (last.warehouse.join('\n') === expect.rows.join('\n') && last.alerts >= expect.alerts && last.stream.join(',') === expect.ids.join(',')) return last;
    if (Date.now() > deadline) {
      const logs = Object.entries(procs).map(([s, proc]) => `--- ${s}\n${proc.logs(15)}`);
      throw new Error(`round ${p.schema} not delivered: ${JSON.stringify(last)} wanted ${JSON.stringify(expect)}\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('all four services started at once on a fresh broker and missing topics', () => {
  let broker: PrivateKafka | undefined;
  const plans: PipelinePlan[] = [];

  afterAll(async () => {
    await broker?.destroy();
    for (const p of plans) await dropPipeline(p);
  });

  it(`never exits and delivers end to end, ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      if (round % BROKER_EVERY === 0) {
        await broker?.destroy();
        broker = await PrivateKafka.start();
      }
      const p = planPipeline(`rs${round}`);
      plans.push(p);
      await preparePipelineSource(p);
      // Half the rows are there before cdc starts (snapshot), half arrive while it starts (stream).
      const rows: PipelineRow[] = [1, 2, 3, 4].map((id) => ({ id, amount: id % 2 === 0 ? ALERT_AMOUNT_OVER * 10 + id : id }));
      await insertPipelineRows(p, rows.slice(0, 2));
      const procs = await startPipelineServices(p, broker!.brokers);
      const alerts = new TopicCollector(broker!.brokers, p.alertsTopic);
      try {
        await insertPipelineRows(p, rows.slice(2));
        const expected = { rows: await sourceRows(p), alerts: rows.filter((r) => r.amount > ALERT_AMOUNT_OVER).length, ids: rows.map((r) => r.id) };
        await untilDelivered(procs, expected, alerts, p);
        expect(exitedServices(procs)).toEqual([]);
      } finally {
        await alerts.close();
        await stopPipelineServices(procs);
      }
      await dropPipeline(p);
      plans.pop();
    }
  });
});
