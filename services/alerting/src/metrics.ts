/** Metrics of `tideway alerting` (labels are bounded: rule ids, severities, notifier names, topics from the rules file). */
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from '@tideway/runtime';

export class AlertingMetrics {
  readonly eventsEvaluated: Counter<'topic'>;
  readonly evaluationErrors: Counter<'rule'>;
  readonly alerts: Counter<'rule' | 'severity'>;
  readonly suppressed: Counter<'rule'>;
  readonly lateEvents: Counter<'rule'>;
  readonly aggregationResults: Counter<'aggregation'>;
  readonly openWindows: Gauge;
  readonly stateKeys: Gauge;
  readonly batchDuration: Histogram<'stage'>;
  readonly recordLatency: Histogram;
  readonly transactions: Counter<'outcome'>;
  readonly notifications: Counter<'notifier' | 'outcome'>;
  readonly notifierFailures: Counter<'notifier'>;
  readonly reloads: Counter<'outcome'>;
  readonly rulesLoaded: Gauge;
  readonly evaluationThreadDeaths: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.eventsEvaluated = new Counter({
      name: 'tideway_alerting_events_evaluated_total',
      help: 'Input records evaluated against the rules, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.evaluationErrors = new Counter({
      name: 'tideway_alerting_rule_evaluation_errors_total',
      help: 'Rule evaluations that failed (missing field, type mismatch); the rule did not match.',
      labelNames: ['rule'],
      registers,
    });
    this.alerts = new Counter({
      name: 'tideway_alerting_alerts_total',
      help: 'Alerts written to the alerts topic, by rule and severity.',
      labelNames: ['rule', 'severity'],
      registers,
    });
    this.suppressed = new Counter({
      name: 'tideway_alerting_alerts_suppressed_total',
      help: 'Alerts not raised because the rule and key were in cooldown.',
      labelNames: ['rule'],
      registers,
    });
    this.lateEvents = new Counter({
      name: 'tideway_alerting_late_events_total',
      help: 'Events that arrived after all their windows had closed (dropped or sent to the late topic).',
      labelNames: ['rule'],
      registers,
    });
    this.aggregationResults = new Counter({
      name: 'tideway_alerting_aggregation_results_total',
      help: 'Window results written to aggregation sink topics.',
      labelNames: ['aggregation'],
      registers,
    });
    this.openWindows = new Gauge({
      name: 'tideway_alerting_open_windows',
      help: 'Windows (and pending sliding evaluations) open in this instance.',
      registers,
    });
    this.stateKeys = new Gauge({ name: 'tideway_alerting_state_keys', help: '(rule, key) pairs with state in this instance.', registers });
    this.batchDuration = new Histogram({
      name: 'tideway_alerting_batch_duration_seconds',
      help: 'Time to evaluate a fetched batch and commit its transaction, by stage (input, state, idle).',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.recordLatency = new Histogram({
      name: 'tideway_alerting_evaluation_latency_seconds',
      help: "From an input record's Kafka timestamp to the commit of the transaction that evaluated it.",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.transactions = new Counter({
      name: 'tideway_alerting_transactions_total',
      help: 'Kafka transactions, by outcome (committed, aborted).',
      labelNames: ['outcome'],
      registers,
    });
    this.notifications = new Counter({
      name: 'tideway_alerting_notifications_total',
      help: 'Alerts handed to notifiers, by outcome (sent, failed = gave up after retries, rejected = 4xx).',
      labelNames: ['notifier', 'outcome'],
      registers,
    });
    this.notifierFailures = new Counter({
      name: 'tideway_alerting_notifier_failures_total',
      help: 'Failed notifier attempts (timeouts, connection errors, error statuses), retried or not.',
      labelNames: ['notifier'],
      registers,
    });
    this.reloads = new Counter({
      name: 'tideway_alerting_rules_reloads_total',
      help: 'Rules file reloads, by outcome (applied, rejected).',
      labelNames: ['outcome'],
      registers,
    });
    this.evaluationThreadDeaths = new Counter({
      name: 'tideway_alerting_evaluation_thread_deaths_total',
      help: 'Evaluation threads (ALERTING_EVALUATION_THREADS) that died and were replaced; their batches were evaluated again.',
      registers,
    });
    this.rulesLoaded = new Gauge({ name: 'tideway_alerting_rules', help: 'Rules and aggregations currently loaded.', registers });
  }
}
