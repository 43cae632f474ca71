/** `tideway alerting`: rules and windowed aggregations over Kafka topics → alerts topic, sinks and webhooks. */
import { watchFile, unwatchFile } from 'node:fs';
import { ConsumerMetrics, errorMessage, runService, type Admin, type ServiceContext, type ServiceDefinition, type TopicSpec } from '@tideway/runtime';
import { settings } from './config';
import { AlertingMetrics } from './metrics';
import { waitForTopics } from './io/input-topics';
import { LookupTables } from './io/table-store';
import { NotifierDispatcher } from './notify/notifier-dispatcher';
import { RuleIndex } from './pipeline/input-evaluator';
import { internalTopics, TransactionalPipeline } from './pipeline/transactional-pipeline';
import { loadRuleFile, type RuleSet } from './rules/rule-file';
import { ConfigError } from '@tideway/runtime';

type Ctx = ServiceContext<typeof settings>;

function sameList(a: string[], b: string[]) {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

function sameTables(a: RuleSet, b: RuleSet) {
  return JSON.stringify(a.tables) === JSON.stringify(b.tables);
}

async function withAdmin<T>(ctx: Ctx, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function ensureTopics(ctx: Ctx, rules: RuleSet) {
  const s = ctx.settings;
  await withAdmin(ctx, async (admin) => {
    const internal = internalTopics(s.groupId);
    const rf = s.topicReplicationFactor;
    const specs: TopicSpec[] = [
      { topic: internal.repartition, partitions: s.internalPartitions, replicationFactor: rf },
      { topic: internal.changelog, partitions: s.internalPartitions, replicationFactor: rf, configs: { 'cleanup.policy': 'compact' } },
      { topic: `${internal.repartition}${s.dlqSuffix}`, partitions: 1, replicationFactor: rf },
      { topic: s.alertsTopic, partitions: 1, replicationFactor: rf },
      ...rules.outputTopics.map((topic) => ({ topic, partitions: 1, replicationFactor: rf })),
      ...rules.inputTopics.map((topic) => ({ topic: `${topic}${s.dlqSuffix}`, partitions: 1, replicationFactor: rf })),
    ];
    if (s.createTopics) await admin.ensureTopics(specs);
    const [rp, cp] = [await admin.partitionCount(internal.repartition), await admin.partitionCount(internal.changelog)];
    if (rp === 0 || rp !== cp) throw new ConfigError('ALERTING_GROUP_ID', `internal topics ${internal.repartition} (${rp} partitions) and ${internal.changelog} (${cp}) must exist with the same partition count`);
  });
}

export const definition: ServiceDefinition<typeof settings> = {
  name: 'alerting',
  summary: 'rules and windowed aggregations over topics → alerts topic and webhooks',
  settings,
  async start(ctx) {
    const { logger, settings: s } = ctx;
    // Registered first: /readyz must not answer 200 while start-up is still under way.
    let pipeline: TransactionalPipeline | undefined;
    const started: { dispatcher?: NotifierDispatcher; reload?: (why: string) => void } = {};
    ctx.readiness.set('pipeline', () => pipeline?.assigned === true);
    ctx.readiness.set('notifier', () => started.dispatcher?.assigned === true);
    // A SIGHUP during start-up must not kill the process (its default action); it is served once started.
    let hupPending = false;
    const onHup = () => (started.reload ? started.reload('SIGHUP') : (hupPending = true));
    process.on('SIGHUP', onHup);
    let rules = loadRuleFile(s.rulesFile);
    const metrics = new AlertingMetrics(ctx.registry);
    const consumerMetrics = new ConsumerMetrics(ctx.registry);
    metrics.rulesLoaded.set(rules.rules.length);
    logger.info({ rules: rules.rules.map((r) => `${r.id} (${r.kind})`), notifiers: rules.notifiers.map((n) => n.name) }, 'rules loaded');
    // Transient Kafka failures are retried here; a ConfigError (internal topics that disagree) stops.
    const kafkaStep = <T>(operation: string, fn: () => Promise<T>) => ctx.health.retry('kafka', operation, fn, { signal: ctx.signal });
    await kafkaStep('ensure topics', () => ensureTopics(ctx, rules));
    // Not ready (check "input-topics") while a topic the rules read does not exist.
    const setInputsExist = ctx.readiness.flag('input-topics');
    await kafkaStep('wait for input topics', () => withAdmin(ctx, (admin) => waitForTopics(admin, [...rules.inputTopics, ...rules.tableTopics], logger, ctx.signal)));
    setInputsExist(true);

    let tables = new LookupTables(ctx.kafka, s.groupId, logger);
    const newPipeline = (rs: RuleSet) => new TransactionalPipeline({ kafka: ctx.kafka, logger, settings: s, metrics, consumerMetrics, tables, signal: ctx.signal, fail: ctx.fail }, new RuleIndex(rs));
    const dispatcher = new NotifierDispatcher(ctx.kafka, s, metrics, logger, rules.notifiers);
    try {
      await tables.start(rules.tables, s.tableLoadTimeoutMs);
      pipeline = newPipeline(rules);
      await pipeline.start();
      started.dispatcher = dispatcher;
      await dispatcher.start();
    } catch (err) {
      // The runtime retries a failed start from scratch: stop what this attempt started.
      process.off('SIGHUP', onHup);
      await dispatcher.stop().catch(() => undefined);
      await pipeline?.stop().catch(() => undefined);
      await tables.stop().catch(() => undefined);
      throw err;
    }
    const gauges = setInterval(() => {
      void pipeline!.stateSummary().then((x) => {
        metrics.openWindows.set(x.openWindows);
        metrics.stateKeys.set(x.keys);
      });
    }, 2000);

    // Reloads are serialised; a bad file is logged and the running rules stay.
    let reloading: Promise<void> = Promise.resolve();
    const reload = (why: string) => {
      reloading = reloading.then(async () => {
        if (!pipeline) return;
        let next: RuleSet;
        try {
          next = loadRuleFile(s.rulesFile);
        } catch (err) {
          metrics.reloads.inc({ outcome: 'rejected' });
          logger.error({ why, err: errorMessage(err) }, `rules reload rejected, the previous rules keep running: ${errorMessage(err)}`);
          return;
        }
        try {
          if (sameList(next.inputTopics, rules.inputTopics) && sameTables(next, rules)) {
            if (!sameList(next.outputTopics, rules.outputTopics)) await ensureTopics(ctx, next);
            pipeline.setRules(new RuleIndex(next));
          } else {
            // New input or table topics need a new subscription: restart the pipeline in-process,
            // once they exist (the old rules keep running meanwhile).
            await ensureTopics(ctx, next);
            await withAdmin(ctx, (admin) => waitForTopics(admin, [...next.inputTopics, ...next.tableTopics], logger, ctx.signal));
            await pipeline.stop();
            if (!sameTables(next, rules)) {
              await tables.stop();
              tables = new LookupTables(ctx.kafka, s.groupId, logger);
              await tables.start(next.tables, s.tableLoadTimeoutMs);
            }
            pipeline = newPipeline(next);
            await pipeline.start();
          }
          dispatcher.setNotifiers(next.notifiers);
          rules = next;
          metrics.rulesLoaded.set(rules.rules.length);
          metrics.reloads.inc({ outcome: 'applied' });
          logger.info({ why, rules: rules.rules.map((r) => r.id) }, 'rules reloaded');
        } catch (err) {
          ctx.fail(err);
        }
      });
    };
    started.reload = reload;
    if (hupPending) reload('SIGHUP');
    if (s.watchRules) watchFile(s.rulesFile, { interval: s.watchIntervalMs, persistent: false }, (cur, prev) => cur.mtimeMs !== prev.mtimeMs && reload('file changed'));

    return {
      async stop() {
        process.off('SIGHUP', onHup);
        unwatchFile(s.rulesFile);
        clearInterval(gauges);
        await reloading;
        await dispatcher.stop();
        await pipeline!.stop();
        await tables.stop();
      },
    };
  },
};

export function main(argv: string[]) {
  return runService(definition, argv);
}
