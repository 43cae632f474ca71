/**
 * Stage 1 over one fetched batch of an input partition: every record through `evaluateRecord`,
 * the results in the form the next transaction needs — alert records, forwarded events encoded
 * per repartition partition, dead-letter verdicts, counts. Pure, and made of plain data only, so
 * it runs the same on the main thread or on an evaluation thread (evaluation-threads.ts).
 */
import type { OutgoingMessage } from '@tideway/runtime';
import type { RecordProblem } from '../errors';
import { alertMessage, AlertTally } from './alert';
import { evaluateRecord, type EvaluatedMessage, type RuleIndex, type TableLookup } from './input-evaluator';
import { FragmentEncoder, type ForwardedFragment } from './repartition-bundles';

export interface BatchEvaluation {
  alertRecords: OutgoingMessage[];
  /** Alerts by rule and severity (counted in metrics once their transaction commits). */
  alertCounts: Array<{ rule: string; severity: string; n: number }>;
  forwarded: ForwardedFragment[];
  /** Approximate bytes this batch adds to its pending transaction. */
  bytes: number;
  /** Records to dead-letter: index in the batch, reason, message. */
  deadLetters: Array<{ index: number; reason: RecordProblem; error: string }>;
  /** Failed evaluations (missing field, type error) by rule id. */
  evaluationErrors: Array<[string, number]>;
  /** Time spent evaluating, in seconds. */
  seconds: number;
}

export function evaluateBatch(
  index: RuleIndex,
  messages: EvaluatedMessage[],
  lookup: TableLookup,
  repartitionPartitions: number,
  alertsTopic: string,
): BatchEvaluation {
  const started = process.hrtime.bigint();
  const alertRecords: OutgoingMessage[] = [];
  const tally = new AlertTally();
  const encoder = new FragmentEncoder(repartitionPartitions);
  const deadLetters: BatchEvaluation['deadLetters'] = [];
  const errors = new Map<string, number>();
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const r = evaluateRecord(index, messages[i], lookup);
    for (const a of r.alerts) {
      const rec = alertMessage(alertsTopic, a);
      alertRecords.push(rec);
      bytes += 160 + (rec.value as string).length;
      tally.add(a.rule, a.severity);
    }
    for (const f of r.forwarded) encoder.add(f);
    for (const id of r.evaluationErrors) errors.set(id, (errors.get(id) ?? 0) + 1);
    if (r.deadLetter) deadLetters.push({ index: i, reason: r.deadLetter.reason, error: r.deadLetter.error });
  }
  const forwarded = encoder.finish();
  return {
    alertRecords,
    alertCounts: tally.entries(),
    forwarded,
    bytes: bytes + encoder.bytes,
    deadLetters,
    evaluationErrors: [...errors],
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
