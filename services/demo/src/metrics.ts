/** Metrics of `tideway demo`: what it wrote, so a dashboard can compare it with what arrived. */
import { Counter, type Registry } from '@tideway/runtime';

export class DemoMetrics {
  readonly changes: Counter<'table' | 'op'>;
  readonly fraudTransactions: Counter<'rule'>;
  readonly writeRetries: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.changes = new Counter({
      name: 'tideway_demo_changes_total',
      help: 'Changes committed to PostgreSQL, by table and op (c = insert, u = update).',
      labelNames: ['table', 'op'],
      registers,
    });
    this.fraudTransactions = new Counter({
      name: 'tideway_demo_fraud_transactions_total',
      help: 'Transactions written to trip a fraud rule, by rule id.',
      labelNames: ['rule'],
      registers,
    });
    this.writeRetries = new Counter({ name: 'tideway_demo_write_retries_total', help: 'Batches written again after a database error.', registers });
  }
}
