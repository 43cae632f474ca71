/**
 * Why the alerting service rejects something. Rule-file problems are ConfigErrors (exit 2 at
 * start-up, a log line on reload); record problems are a closed list of dead-letter reasons.
 */
import { ConfigError, TidewayError } from '@tideway/runtime';

/** Dead-letter reason codes (also the `reason` label of tideway_dlq_records_total). */
export type RecordProblem = 'malformed_json' | 'not_an_object' | 'not_an_envelope' | 'missing_field' | 'event_time_invalid' | 'key_missing';

export class RecordError extends TidewayError {
  constructor(
    readonly problem: RecordProblem,
    message: string,
  ) {
    super('RECORD_INVALID', message);
    this.name = 'RecordError';
  }
}

/** A problem in the rules file: `where` names the file, rule and field, e.g. `rules.yaml: rules[2] (claim-burst).window.size`. */
export class RuleFileError extends ConfigError {
  constructor(where: string, problem: string) {
    super(where, problem);
    this.name = 'RuleFileError';
  }
}

/** A webhook answered with an error: one that may pass (5xx, 429, ...) or a refusal for good (other 4xx). */
export class NotifierError extends TidewayError {
  constructor(message: string, retriable: boolean) {
    super(retriable ? 'DELIVERY_FAILED' : 'DELIVERY_REJECTED', message);
    this.name = 'NotifierError';
  }
}
