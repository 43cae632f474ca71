/**
 * Runs the pipeline, lookup tables and notifiers for the current rules file, and applies a new
 * one: in place when it reads the same input and table topics, otherwise by restarting the
 * pipeline in-process once its topics exist (the old rules keep running meanwhile). Reloads are
 * serialised; a file that does not parse is logged and the running rules stay.
 */
import { errorMessage, ignoreFailure, type ConsumerMetrics, type KafkaClient, type Logger } from '@tideway/runtime';
import type { AlertingSettings } from './config';
import { ensureTopics, waitForRuleTopics } from './io/topic-setup';
import { LookupTables } from './io/table-store';
import type { AlertingMetrics } from './metrics';
import { NotifierDispatcher } from './notify/notifier-dispatcher';
import { RuleIndex } from './pipeline/input-evaluator';
import { TransactionalPipeline } from './pipeline/transactional-pipeline';
import { loadRuleFile, type RuleSet } from './rules/rule-file';

function sameList(a: string[], b: string[]) {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

function sameTables(a: RuleSet, b: RuleSet) {
  return JSON.stringify(a.tables) === JSON.stringify(b.tables);
}

export interface ReloadPlan {
  /** The running pipeline takes the new rules in place (same input and table topics). */
  inPlace: boolean;
  /** The topics are ensured first (new sink topics, or a restart on new input topics). */
  ensureTopics: boolean;
  /** The lookup tables are loaded again. */
  newTables: boolean;
}

/** How a new rule set replaces the running one. Pure. */
export function reloadPlan(running: RuleSet, next: RuleSet): ReloadPlan {
  const tables = !sameTables(next, running);
  const inPlace = sameList(next.inputTopics, running.inputTopics) && !tables;
  return { inPlace, ensureTopics: !inPlace || !sameList(next.outputTopics, running.outputTopics), newTables: tables };
}

export interface RulesRunnerDeps {
  kafka: KafkaClient;
  logger: Logger;
  settings: AlertingSettings;
  metrics: AlertingMetrics;
  consumerMetrics: ConsumerMetrics;
  signal: AbortSignal;
  fail(err: unknown): void;
}

export class RulesRunner {
  private pipeline?: TransactionalPipeline;
  private tables: LookupTables;
  private dispatcher?: NotifierDispatcher;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly d: RulesRunnerDeps,
    private rules: RuleSet,
  ) {
    this.tables = new LookupTables(d.kafka, d.settings.groupId, d.logger);
  }

  get pipelineAssigned(): boolean {
    return this.pipeline?.assigned === true;
  }

  get notifierAssigned(): boolean {
    return this.dispatcher?.assigned === true;
  }

  /** A failed start leaves nothing running (the runtime retries it from scratch). */
  async start(): Promise<void> {
    const { kafka, settings: s, metrics, logger } = this.d;
    const dispatcher = new NotifierDispatcher(kafka, s, metrics, logger, this.rules.notifiers);
    try {
      await this.tables.start(this.rules.tables, s.tableLoadTimeoutMs);
      this.pipeline = this.newPipeline(this.rules);
      await this.pipeline.start();
      this.dispatcher = dispatcher;
      await dispatcher.start();
    } catch (err) {
      // Each is stopped whatever the others do; the start's own failure is the one reported.
      await dispatcher.stop().catch(ignoreFailure(logger, 'stopping the notifier after a failed start'));
      await this.pipeline?.stop().catch(ignoreFailure(logger, 'stopping the pipeline after a failed start'));
      await this.tables.stop().catch(ignoreFailure(logger, 'stopping the lookup tables after a failed start'));
      throw err;
    }
  }

  stateSummary(): Promise<{ openWindows: number; keys: number }> {
    return this.pipeline!.stateSummary();
  }

  /** Applies the rules file as it is now, after any reload under way. */
  reload(why: string): void {
    this.reloading = this.reloading.then(() => this.apply(why));
  }

  async stop(): Promise<void> {
    await this.reloading;
    await this.dispatcher?.stop();
    await this.pipeline?.stop();
    await this.tables.stop();
  }

  private newPipeline(rules: RuleSet): TransactionalPipeline {
    const { kafka, logger, settings, metrics, consumerMetrics, signal, fail } = this.d;
    return new TransactionalPipeline({ kafka, logger, settings, metrics, consumerMetrics, tables: this.tables, signal, fail }, new RuleIndex(rules));
  }

  private async apply(why: string): Promise<void> {
    const { kafka, settings: s, metrics, logger, signal } = this.d;
    const pipeline = this.pipeline;
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
      const plan = reloadPlan(this.rules, next);
      if (plan.ensureTopics) await ensureTopics(kafka, s, next);
      if (plan.inPlace) pipeline.setRules(new RuleIndex(next));
      else {
        // New input or table topics need a new subscription, once they exist.
        await waitForRuleTopics(kafka, next, logger, signal);
        await pipeline.stop();
        if (plan.newTables) {
          await this.tables.stop();
          this.tables = new LookupTables(kafka, s.groupId, logger);
          await this.tables.start(next.tables, s.tableLoadTimeoutMs);
        }
        this.pipeline = this.newPipeline(next);
        await this.pipeline.start();
      }
      this.dispatcher?.setNotifiers(next.notifiers);
      this.rules = next;
      metrics.rulesLoaded.set(next.rules.length);
      metrics.reloads.inc({ outcome: 'applied' });
      logger.info({ why, rules: next.rules.map((r) => r.id) }, 'rules reloaded');
    } catch (err) {
      this.d.fail(err);
    }
  }
}
