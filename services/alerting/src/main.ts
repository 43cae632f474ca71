/** `tideway alerting`: rules and windowed aggregations over Kafka topics → alerts topic, sinks and webhooks. */
import { ConsumerMetrics, runService, type ServiceDefinition } from '@tideway/runtime';
import { settings } from './config';
import { limitHeapGrowth } from './heap-growth';
import { ensureTopics, waitForRuleTopics } from './io/topic-setup';
import { AlertingMetrics } from './metrics';
import { ReloadTriggers } from './reload-triggers';
import { loadRuleFile } from './rules/rule-file';
import { RulesRunner } from './rules-runner';

export const definition: ServiceDefinition<typeof settings> = {
  name: 'alerting',
  summary: 'rules and windowed aggregations over topics → alerts topic and webhooks',
  settings,
  async start(ctx) {
    const { logger, settings: s, kafka } = ctx;
    limitHeapGrowth(s.heapGrowthPercent);
    // Registered first: /readyz must not answer 200 while start-up is still under way.
    let runner: RulesRunner | undefined;
    ctx.readiness.set('pipeline', () => runner?.pipelineAssigned === true);
    ctx.readiness.set('notifier', () => runner?.notifierAssigned === true);
    const metrics = new AlertingMetrics(ctx.registry);
    // Holds a SIGHUP from now on; stopped on every way out of start() that throws.
    const triggers = new ReloadTriggers({ rulesFile: s.rulesFile, watch: s.watchRules, watchIntervalMs: s.watchIntervalMs });
    try {
      const rules = loadRuleFile(s.rulesFile);
      metrics.rulesLoaded.set(rules.rules.length);
      logger.info({ rules: rules.rules.map((r) => `${r.id} (${r.kind})`), notifiers: rules.notifiers.map((n) => n.name) }, 'rules loaded');
      // Transient Kafka failures are retried here; a ConfigError (internal topics that disagree) stops.
      const kafkaStep = <T>(operation: string, fn: () => Promise<T>) => ctx.health.retry('kafka', operation, fn, { signal: ctx.signal });
      await kafkaStep('ensure topics', () => ensureTopics(kafka, s, rules));
      // Not ready (check "input-topics") while a topic the rules read does not exist.
      const setInputsExist = ctx.readiness.flag('input-topics');
      await kafkaStep('wait for input topics', () => waitForRuleTopics(kafka, rules, logger, ctx.signal));
      setInputsExist(true);
      const consumerMetrics = new ConsumerMetrics(ctx.registry);
      runner = new RulesRunner({ kafka, logger, settings: s, metrics, consumerMetrics, signal: ctx.signal, fail: ctx.fail }, rules);
      await runner.start();
    } catch (err) {
      triggers.stop();
      throw err;
    }
    const started = runner;
    const gauges = setInterval(() => {
      void started.stateSummary().then((x) => {
        metrics.openWindows.set(x.openWindows);
        metrics.stateKeys.set(x.keys);
      });
    }, 2000);
    triggers.serve((why) => started.reload(why));

    return {
      async stop() {
        triggers.stop();
        clearInterval(gauges);
        await started.stop();
      },
    };
  },
};

export function main(argv: string[]) {
  return runService(definition, argv);
}
