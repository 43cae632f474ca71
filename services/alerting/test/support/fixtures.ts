/** What alerting's integration tests feed the service: a rules file and change events as `tideway cdc` writes them. */
import { writeTempFile } from '../../../../test-support/temp-file';

export function writeRules(yaml: string): string {
  return writeTempFile('rules.yaml', yaml);
}

/** A Debezium-style change event as `tideway cdc` writes it. */
export function changeEvent(table: string, op: 'c' | 'u' | 'd', after: Record<string, unknown> | null, before: Record<string, unknown> | null = null) {
  return JSON.stringify({
    before,
    after,
    op,
    ts_ms: Date.now(),
    source: { connector: 'postgresql', db: 'app', schema: 'public', table, lsn: 1, txId: 1, ts_ms: Date.now(), snapshot: 'false' },
  });
}
