/**
 * First stage, per input record: filter, evaluate predicate rules, and project the record for
 * the stateful stage (windows, cooldowns). Pure: the caller turns the result into records of
 * one Kafka transaction.
 */
import { getPath, type IncomingMessage } from '@tideway/runtime';
import { RecordError, type RecordProblem } from '../errors';
import { celTimestamp, isTrue, type CompiledExpr } from '../rules/cel-expr';
import type { AnyRule, PredicateRule, RuleSet, StatefulRule } from '../rules/rule-file';
import { keyString, parseEventTime, toCelInput, toNumber, withValueAt } from '../rules/values';
import type { ProjectedValue } from '../windows/aggregates';
import type { SourceRef } from '../windows/keyed-windows';
import { alertId, isoTime, type Alert } from './alert';
import { decodeEvent, type EventDocument } from './event-decoder';

/** A record for the stateful stage, keyed by rule and group key (the repartition topic's value). */
export interface ForwardedEvent {
  /** Rule id. */
  r: string;
  /** Group key ('' when the rule has no keyBy). */
  k: string;
  /** Event time, epoch millis. */
  t: number;
  /** The source record, for alerts that list the events behind them and late-topic records (aggregations to a sink alone do not need it). */
  s?: SourceRef;
  /** Window input: one projected value per aggregate. */
  v?: ProjectedValue[];
  /** Cooldown gate: the alert a predicate rule with a cooldown wants to raise. */
  a?: Alert;
}

export interface EvaluationResult {
  alerts: Alert[];
  forwarded: ForwardedEvent[];
  /** Set when the record (or a rule's view of it) was malformed; the record goes to the DLQ once. */
  deadLetter?: { reason: RecordProblem; error: string };
  /** Rules that were evaluated, and those whose evaluation failed (missing field, type error). */
  evaluated: number;
  evaluationErrors: string[];
}

export type TableLookup = (table: string, key: string) => Record<string, unknown> | undefined;

export function stateKeyOf(ruleId: string, key: string): string {
  return `${ruleId}\u0000${key}`;
}

/** Rules grouped by input topic, built once per rule set. */
export class RuleIndex {
  private readonly byTopic = new Map<string, AnyRule[]>();
  readonly stateful = new Map<string, StatefulRule>();
  readonly all = new Map<string, AnyRule>();
  constructor(readonly ruleSet: RuleSet) {
    for (const r of ruleSet.rules) {
      let list = this.byTopic.get(r.topic);
      if (!list) this.byTopic.set(r.topic, (list = []));
      list.push(r);
      this.all.set(r.id, r);
      if (r.kind !== 'predicate') this.stateful.set(r.id, r);
    }
  }
  rulesFor(topic: string): AnyRule[] {
    return this.byTopic.get(topic) ?? [];
  }
}

function isTrueOrError(expr: CompiledExpr, vars: Record<string, unknown>): boolean | Error {
  const r = expr.evaluate(vars);
  return r instanceof Error ? r : isTrue(r);
}

/** Projects one event's aggregate inputs. */
function project(rule: StatefulRule, doc: EventDocument): ProjectedValue[] {
  return rule.aggregates.map((a) => {
    if (!a.path) return null;
    const raw = getPath(doc, a.path);
    if (a.fn === 'count_distinct') return keyString(raw) ?? null;
    return toNumber(raw) ?? null;
  });
}

function predicateAlert(rule: PredicateRule, doc: EventDocument, key: string | null, t: number, source: SourceRef, lookups: Record<string, unknown>): Alert {
  return {
    id: alertId([rule.id, source.topic, source.partition, source.offset]),
    rule: rule.id,
    severity: rule.severity,
    title: rule.title,
    key,
    eventTime: isoTime(t),
    values: Object.keys(lookups).length > 0 ? { ...doc, ...lookups } : doc,
    sources: [source],
    sourceCount: 1,
  };
}

/** The parts of an input record stage 1 reads. */
export type EvaluatedMessage = Pick<IncomingMessage, 'topic' | 'partition' | 'offset' | 'value' | 'timestamp'>;

export function evaluateRecord(index: RuleIndex, message: EvaluatedMessage, lookup: TableLookup): EvaluationResult {
  const out: EvaluationResult = { alerts: [], forwarded: [], evaluated: 0, evaluationErrors: [] };
  const rules = index.rulesFor(message.topic);
  if (rules.length === 0) return out;
  let doc: EventDocument | null;
  try {
    doc = decodeEvent(message);
  } catch (err) {
    if (err instanceof RecordError) return { ...out, deadLetter: { reason: err.problem, error: err.message } };
    throw err;
  }
  if (doc === null) return out;
  const source: SourceRef = { topic: message.topic, partition: message.partition, offset: message.offset };
  const converted = toCelInput(doc) as Record<string, unknown>;
  // `event` is the whole document, so `has(event.field)` can test top-level fields. (A for-in
  // copy: the object spread it replaces showed in profiles.)
  let base = converted;
  if (!('event' in converted)) {
    base = {};
    for (const k in converted) base[k] = converted[k];
    base.event = converted;
  }
  // One activation per event-time path: the field is presented to CEL as a timestamp.
  const activations = new Map<string, { vars: Record<string, unknown>; t: number } | RecordError>();
  const activationFor = (path: string | undefined) => {
    const cacheKey = path ?? '';
    let a = activations.get(cacheKey);
    if (a) return a;
    if (!path) a = { vars: base, t: message.timestamp };
    else {
      const t = parseEventTime(getPath(doc, path));
      if (t === undefined) a = new RecordError('event_time_invalid', `event time field "${path}" is missing or not an ISO-8601 time / epoch number`);
      else {
        a = { vars: withValueAt(base, path, celTimestamp(t)), t };
      }
    }
    activations.set(cacheKey, a);
    return a;
  };
  const reject = (reason: RecordProblem, error: string) => {
    out.deadLetter ??= { reason, error };
  };

  for (const rule of rules) {
    const act = activationFor(rule.eventTime);
    if (act instanceof RecordError) {
      reject(act.problem, `rule ${rule.id}: ${act.message}`);
      continue;
    }
    out.evaluated++;
    let vars = act.vars;
    if (rule.filter) {
      const pass = isTrueOrError(rule.filter, vars);
      if (pass instanceof Error) {
        out.evaluationErrors.push(rule.id);
        continue;
      }
      if (!pass) continue;
    }
    const key = rule.keyBy ? keyString(getPath(doc, rule.keyBy)) : undefined;
    if (rule.kind === 'predicate') {
      const looked: Record<string, unknown> = {};
      if (rule.lookups.length > 0) {
        vars = { ...vars };
        for (const l of rule.lookups) {
          const k = keyString(getPath(doc, l.keyPath));
          const row = k === undefined ? undefined : lookup(l.table, k);
          looked[l.as] = row ?? null;
          vars[l.as] = row === undefined ? null : toCelInput(row);
        }
      }
      const hit = isTrueOrError(rule.when, vars);
      if (hit instanceof Error) {
        out.evaluationErrors.push(rule.id);
        continue;
      }
      if (!hit) continue;
      const alert = predicateAlert(rule, doc, key ?? null, act.t, source, looked);
      if (rule.cooldownMs > 0) out.forwarded.push({ r: rule.id, k: key ?? '', t: act.t, s: source, a: alert });
      else out.alerts.push(alert);
      continue;
    }
    if (rule.keyBy && key === undefined) {
      reject('key_missing', `rule ${rule.id}: keyBy field "${rule.keyBy}" is missing`);
      continue;
    }
    // Sources are kept where they are shown: alerts of windowed rules and late-topic records
    // (an undefined `s` is left out of the repartition record's JSON).
    out.forwarded.push({ r: rule.id, k: key ?? '', t: act.t, s: rule.kind === 'windowed' || rule.lateTopic ? source : undefined, v: project(rule, doc) });
  }
  return out;
}
