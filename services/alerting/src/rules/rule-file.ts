/**
 * The rules file (`ALERTING_RULES`): YAML with `rules`, `aggregations`, `tables` and
 * `notifiers`, validated completely before anything runs. Every problem names the file, the
 * rule and the field, e.g. `rules.yaml: rules[3] (claim-burst).window.size: ...`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isValidPath, parseDurationMs, parseYamlObject } from '@tideway/runtime';
import { RuleFileError } from '../errors';
import { compileCel, type CompiledExpr } from './cel-expr';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type WindowType = 'tumbling' | 'hopping' | 'sliding' | 'session';
export interface WindowSpec {
  type: WindowType;
  /** Window length (tumbling, hopping, sliding); for session windows 0. */
  sizeMs: number;
  /** Hopping: distance between window starts; tumbling: = size. */
  advanceMs: number;
  /** Session: inactivity gap that closes a session. */
  gapMs: number;
  /** How long after a window's end events are still accepted into it. */
  allowedLatenessMs: number;
}

export const AGGREGATE_FUNCTIONS = ['count', 'sum', 'avg', 'min', 'max', 'count_distinct'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];
export interface AggregateSpec {
  name: string;
  fn: AggregateFunction;
  /** Dotted path of the aggregated field (absent for count). */
  path?: string;
}

export interface LookupSpec {
  /** Variable name the looked-up row is bound to in `when`. */
  as: string;
  table: string;
  /** Dotted path in the event whose value is the table key. */
  keyPath: string;
}

export interface TableSpec {
  id: string;
  topic: string;
  /** Dotted path of the key in the table's records (`after.account_id` for a CDC topic). */
  keyPath: string;
}

export type EmitMode = 'final' | 'update';

interface RuleBase {
  id: string;
  topic: string;
  filter?: CompiledExpr;
  keyBy?: string;
  eventTime?: string;
  lookups: LookupSpec[];
}

export interface PredicateRule extends RuleBase {
  kind: 'predicate';
  severity: Severity;
  title: string;
  when: CompiledExpr;
  cooldownMs: number;
}

export interface WindowedBase extends RuleBase {
  window: WindowSpec;
  aggregates: AggregateSpec[];
  emit: EmitMode;
  /** Late events go here (as their projected form) instead of only being counted. */
  lateTopic?: string;
  /** Identity of the window definition: state kept under another fingerprint is dropped on reload. */
  fingerprint: string;
}

export interface WindowedRule extends WindowedBase {
  kind: 'windowed';
  severity: Severity;
  title: string;
  /** Over the aggregate names, `key`, `window_start` and `window_end`. */
  when: CompiledExpr;
  cooldownMs: number;
}

export interface AggregationRule extends WindowedBase {
  kind: 'aggregation';
  sink: string;
  /** Optional condition on the aggregates; windows that fail it are not published. */
  having?: CompiledExpr;
}

export type AnyRule = PredicateRule | WindowedRule | AggregationRule;
export type StatefulRule = WindowedRule | AggregationRule;

export type NotifierType = 'webhook' | 'slack' | 'alertmanager';
export interface NotifierSpec {
  name: string;
  type: NotifierType;
  url: string;
  /** Only alerts of these severities (empty = all). */
  severities: Severity[];
  /** Only alerts of these rules (empty = all). */
  rules: string[];
}

export interface RuleSet {
  rules: AnyRule[];
  tables: TableSpec[];
  notifiers: NotifierSpec[];
  /** Every input topic (rules, aggregations) and table topic. */
  inputTopics: string[];
  tableTopics: string[];
  /** Topics the service writes to besides alerts: sinks and late topics. */
  outputTopics: string[];
  /** The text it was parsed from: evaluation threads parse the same text again (compiled CEL cannot cross threads). */
  source: { text: string; file: string };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CEL_RESERVED = new Set([
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
  'key',
  'window_start',
  'window_end',
]);

const RULE_KEYS = new Set([
  'id',
  'topic',
  'severity',
  'title',
  'filter',
  'keyBy',
  'eventTime',
  'when',
  'cooldown',
  'window',
  'aggregate',
  'emit',
  'lateTopic',
  'lookup',
]);
const AGG_KEYS = new Set(['id', 'topic', 'filter', 'keyBy', 'eventTime', 'window', 'aggregate', 'emit', 'lateTopic', 'sink', 'having']);
const WINDOW_KEYS = new Set(['type', 'size', 'advance', 'gap', 'allowedLateness']);
/** Upper bound of hopping windows one event falls into (size / advance), to bound work per event. */
export const MAX_WINDOWS_PER_EVENT = 100;

type Obj = Record<string, unknown>;

class Ctx {
  constructor(readonly file: string) {}
  fail(where: string, problem: string): never {
    throw new RuleFileError(`${this.file}: ${where}`, problem);
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(ctx: Ctx, where: string, v: unknown, pattern?: RegExp, hint?: string): string {
  if (typeof v !== 'string' || v.trim() === '') ctx.fail(where, 'must be a non-empty string');
  const s = v.trim();
  if (pattern && !pattern.test(s)) ctx.fail(where, `must be ${hint}, got "${s}"`);
  return s;
}

function duration(ctx: Ctx, where: string, v: unknown): number {
  try {
    return parseDurationMs(v);
  } catch (err) {
    return ctx.fail(where, (err as Error).message);
  }
}

function path(ctx: Ctx, where: string, v: unknown): string {
  const s = str(ctx, where, v);
  if (!isValidPath(s)) ctx.fail(where, `must be a dotted field path such as after.policy_id, got "${s}"`);
  return s;
}

function cel(ctx: Ctx, where: string, v: unknown): CompiledExpr {
  const s = str(ctx, where, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
  try {
    return compileCel(s);
  } catch (err) {
    return ctx.fail(where, (err as Error).message);
  }
}

function window(ctx: Ctx, where: string, v: unknown): WindowSpec {
  if (!isObj(v)) ctx.fail(where, 'must be a mapping such as { type: tumbling, size: 5m }');
  for (const k of Object.keys(v)) if (!WINDOW_KEYS.has(k)) ctx.fail(`${where}.${k}`, `unknown field (expected one of ${[...WINDOW_KEYS].join(', ')})`);
  const type = str(ctx, `${where}.type`, v.type);
  if (!['tumbling', 'hopping', 'sliding', 'session'].includes(type))
    ctx.fail(`${where}.type`, `must be one of tumbling, hopping, sliding, session, got "${type}"`);
  const allowedLatenessMs = v.allowedLateness === undefined ? 0 : duration(ctx, `${where}.allowedLateness`, v.allowedLateness);
  if (type === 'session') {
    if (v.gap === undefined) ctx.fail(`${where}.gap`, 'is required for a session window');
    const gapMs = duration(ctx, `${where}.gap`, v.gap);
    if (gapMs <= 0) ctx.fail(`${where}.gap`, 'must be greater than 0');
    if (v.size !== undefined || v.advance !== undefined) ctx.fail(where, 'a session window takes gap, not size or advance');
    return { type: 'session', sizeMs: 0, advanceMs: 0, gapMs, allowedLatenessMs };
  }
  if (v.size === undefined) ctx.fail(`${where}.size`, `is required for a ${type} window`);
  const sizeMs = duration(ctx, `${where}.size`, v.size);
  if (sizeMs <= 0) ctx.fail(`${where}.size`, 'must be greater than 0');
  if (v.gap !== undefined) ctx.fail(`${where}.gap`, 'only session windows take a gap');
  let advanceMs = sizeMs;
  if (type === 'hopping') {
    if (v.advance === undefined) ctx.fail(`${where}.advance`, 'is required for a hopping window');
    advanceMs = duration(ctx, `${where}.advance`, v.advance);
    if (advanceMs <= 0 || advanceMs > sizeMs) ctx.fail(`${where}.advance`, 'must be greater than 0 and at most the size');
    if (sizeMs / advanceMs > MAX_WINDOWS_PER_EVENT) ctx.fail(`${where}.advance`, `size / advance must be at most ${MAX_WINDOWS_PER_EVENT}`);
  } else if (v.advance !== undefined) ctx.fail(`${where}.advance`, 'only hopping windows take an advance');
  return { type: type as WindowType, sizeMs, advanceMs, gapMs: 0, allowedLatenessMs };
}

function aggregates(ctx: Ctx, where: string, v: unknown): AggregateSpec[] {
  if (!isObj(v) || Object.keys(v).length === 0) ctx.fail(where, 'must be a mapping of name: function, e.g. { claims: count, total: sum(after.amount) }');
  return Object.entries(v).map(([name, def]) => {
    const w = `${where}.${name}`;
    if (!IDENT.test(name) || CEL_RESERVED.has(name))
      ctx.fail(w, 'name must be an identifier usable in CEL (letters, digits, _), not a reserved word or key/window_start/window_end');
    const text = str(ctx, w, def);
    if (text === 'count') return { name, fn: 'count' as const };
    const m = /^([a-z_]+)\(\s*([^)]*?)\s*\)$/.exec(text);
    if (!m || !(AGGREGATE_FUNCTIONS as readonly string[]).includes(m[1]))
      ctx.fail(w, `must be count or one of ${AGGREGATE_FUNCTIONS.filter((f) => f !== 'count').join(', ')} with a field, e.g. sum(after.amount); got "${text}"`);
    if (m[1] === 'count' && m[2] === '') return { name, fn: 'count' as const };
    if (!isValidPath(m[2])) ctx.fail(w, `the argument must be a dotted field path, got "${m[2]}"`);
    return { name, fn: m[1] as AggregateFunction, path: m[2] };
  });
}

function severity(ctx: Ctx, where: string, v: unknown): Severity {
  const s = str(ctx, where, v);
  if (!(SEVERITIES as readonly string[]).includes(s)) ctx.fail(where, `must be one of ${SEVERITIES.join(', ')}, got "${s}"`);
  return s as Severity;
}

function emit(ctx: Ctx, where: string, v: unknown): EmitMode {
  if (v === undefined) return 'final';
  const s = str(ctx, where, v);
  if (s !== 'final' && s !== 'update') ctx.fail(where, `must be final or update, got "${s}"`);
  return s;
}

/** Checks that a condition over aggregates only names aggregates, key, window_start, window_end. */
function checkAggregateCondition(ctx: Ctx, where: string, expr: CompiledExpr, aggs: AggregateSpec[]) {
  const vars: Obj = { key: '', window_start: 0, window_end: 0 };
  for (const a of aggs) vars[a.name] = 0;
  const r = expr.evaluate(vars);
  if (r instanceof Error && /unresolved attribute|undeclared|no such/i.test(r.message)) {
    ctx.fail(where, `may only use the aggregates (${aggs.map((a) => a.name).join(', ')}), key, window_start and window_end: ${r.message}`);
  }
}

/** A short hash of the definition: it is written with every changelog record of the rule's state. */
export function fingerprintOf(definition: string): string {
  return createHash('sha256').update(definition).digest('base64url').slice(0, 16);
}

function fingerprint(r: { topic: string; keyBy?: string; eventTime?: string; window: WindowSpec; aggregates: AggregateSpec[]; filter?: CompiledExpr }): string {
  return fingerprintOf(JSON.stringify([r.topic, r.keyBy ?? '', r.eventTime ?? '', r.filter?.source ?? '', r.window, r.aggregates]));
}

function lookups(ctx: Ctx, where: string, v: unknown, tables: Map<string, TableSpec>): LookupSpec[] {
  if (v === undefined) return [];
  if (!isObj(v)) ctx.fail(where, 'must be a mapping of variable: { table: <id>, key: <field path> }');
  return Object.entries(v).map(([as, def]) => {
    const w = `${where}.${as}`;
    if (!IDENT.test(as) || CEL_RESERVED.has(as)) ctx.fail(w, 'must be an identifier usable in CEL');
    if (!isObj(def)) ctx.fail(w, 'must be { table: <id>, key: <field path> }');
    const table = str(ctx, `${w}.table`, def.table);
    if (!tables.has(table)) ctx.fail(`${w}.table`, `no table "${table}" under tables: (known: ${[...tables.keys()].join(', ') || 'none'})`);
    return { as, table, keyPath: path(ctx, `${w}.key`, def.key) };
  });
}

function base(ctx: Ctx, where: string, r: Obj, tables: Map<string, TableSpec>, ids: Set<string>): RuleBase {
  const id = str(ctx, `${where}.id`, r.id, ID, 'letters, digits, . _ - (at most 128)');
  if (ids.has(id)) ctx.fail(`${where}.id`, `duplicate id "${id}"`);
  ids.add(id);
  const w = `${where} (${id})`;
  return {
    id,
    topic: str(ctx, `${w}.topic`, r.topic, TOPIC, 'a Kafka topic name'),
    filter: r.filter === undefined ? undefined : cel(ctx, `${w}.filter`, r.filter),
    keyBy: r.keyBy === undefined ? undefined : path(ctx, `${w}.keyBy`, r.keyBy),
    eventTime: r.eventTime === undefined ? undefined : path(ctx, `${w}.eventTime`, r.eventTime),
    lookups: lookups(ctx, `${w}.lookup`, r.lookup, tables),
  };
}

function windowedBase(ctx: Ctx, w: string, r: Obj, b: RuleBase): Omit<WindowedBase, keyof RuleBase> {
  const win = window(ctx, `${w}.window`, r.window);
  if (r.aggregate === undefined) ctx.fail(`${w}.aggregate`, 'is required with a window');
  const aggs = aggregates(ctx, `${w}.aggregate`, r.aggregate);
  if (b.lookups.length > 0) ctx.fail(`${w}.lookup`, 'is only supported on rules without a window');
  return {
    window: win,
    aggregates: aggs,
    emit: emit(ctx, `${w}.emit`, r.emit),
    lateTopic: r.lateTopic === undefined ? undefined : str(ctx, `${w}.lateTopic`, r.lateTopic, TOPIC, 'a Kafka topic name'),
    fingerprint: fingerprint({ ...b, window: win, aggregates: aggs }),
  };
}

function list(ctx: Ctx, doc: Obj, key: string): unknown[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) ctx.fail(key, 'must be a YAML list');
  return v;
}

/** Parses and validates rules-file text. Throws RuleFileError (a ConfigError: exit 2) on the first problem. */
export function parseRuleFile(text: string, file: string): RuleSet {
  const ctx: Ctx = new Ctx(file);
  const doc = parseYamlObject(text, file);
  for (const k of Object.keys(doc))
    if (!['rules', 'aggregations', 'tables', 'notifiers'].includes(k)) ctx.fail(k, 'unknown section (expected rules, aggregations, tables, notifiers)');

  const tables = new Map<string, TableSpec>();
  list(ctx, doc, 'tables').forEach((t, i) => {
    const w = `tables[${i}]`;
    if (!isObj(t)) ctx.fail(w, 'must be a mapping { id, topic, key }');
    const id = str(ctx, `${w}.id`, t.id, ID, 'letters, digits, . _ -');
    if (tables.has(id)) ctx.fail(`${w}.id`, `duplicate table id "${id}"`);
    tables.set(id, { id, topic: str(ctx, `${w} (${id}).topic`, t.topic, TOPIC, 'a Kafka topic name'), keyPath: path(ctx, `${w} (${id}).key`, t.key) });
  });

  const ids = new Set<string>();
  const rules: AnyRule[] = [];
  list(ctx, doc, 'rules').forEach((r, i) => {
    const where = `rules[${i}]`;
    if (!isObj(r)) ctx.fail(where, 'must be a mapping');
    const b = base(ctx, where, r, tables, ids);
    const w = `${where} (${b.id})`;
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) ctx.fail(`${w}.${k}`, `unknown field (expected one of ${[...RULE_KEYS].join(', ')})`);
    if (r.when === undefined) ctx.fail(`${w}.when`, 'is required (a CEL condition)');
    const common = {
      severity: severity(ctx, `${w}.severity`, r.severity),
      title: r.title === undefined ? b.id : str(ctx, `${w}.title`, r.title),
      when: cel(ctx, `${w}.when`, r.when),
      cooldownMs: r.cooldown === undefined ? 0 : duration(ctx, `${w}.cooldown`, r.cooldown),
    };
    if (r.window === undefined) {
      if (r.aggregate !== undefined) ctx.fail(`${w}.aggregate`, 'needs a window');
      if (r.emit !== undefined || r.lateTopic !== undefined) ctx.fail(`${w}.${r.emit !== undefined ? 'emit' : 'lateTopic'}`, 'only applies to windowed rules');
      rules.push({ kind: 'predicate', ...b, ...common });
    } else {
      const wb = windowedBase(ctx, w, r, b);
      checkAggregateCondition(ctx, `${w}.when`, common.when, wb.aggregates);
      rules.push({ kind: 'windowed', ...b, ...wb, ...common });
    }
  });

  list(ctx, doc, 'aggregations').forEach((r, i) => {
    const where = `aggregations[${i}]`;
    if (!isObj(r)) ctx.fail(where, 'must be a mapping');
    const b = base(ctx, where, r, tables, ids);
    const w = `${where} (${b.id})`;
    for (const k of Object.keys(r)) if (!AGG_KEYS.has(k)) ctx.fail(`${w}.${k}`, `unknown field (expected one of ${[...AGG_KEYS].join(', ')})`);
    if (r.window === undefined) ctx.fail(`${w}.window`, 'is required for an aggregation');
    if (r.sink === undefined) ctx.fail(`${w}.sink`, 'is required (the topic closed windows are published to)');
    const wb = windowedBase(ctx, w, r, b);
    const having = r.having === undefined ? undefined : cel(ctx, `${w}.having`, r.having);
    if (having) checkAggregateCondition(ctx, `${w}.having`, having, wb.aggregates);
    rules.push({ kind: 'aggregation', ...b, ...wb, sink: str(ctx, `${w}.sink`, r.sink, TOPIC, 'a Kafka topic name'), having });
  });

  const notifiers: NotifierSpec[] = list(ctx, doc, 'notifiers').map((n, i) => {
    const w = `notifiers[${i}]`;
    if (!isObj(n)) ctx.fail(w, 'must be a mapping { type, url, severities?, rules? }');
    for (const k of Object.keys(n))
      if (!['name', 'type', 'url', 'severities', 'rules'].includes(k)) ctx.fail(`${w}.${k}`, 'unknown field (expected name, type, url, severities, rules)');
    const type = str(ctx, `${w}.type`, n.type);
    if (!['webhook', 'slack', 'alertmanager'].includes(type)) ctx.fail(`${w}.type`, `must be webhook, slack or alertmanager, got "${type}"`);
    const url = str(ctx, `${w}.url`, n.url);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return ctx.fail(`${w}.url`, 'must be an http:// or https:// URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ctx.fail(`${w}.url`, 'must be an http:// or https:// URL');
    const sev =
      n.severities === undefined
        ? []
        : Array.isArray(n.severities)
          ? n.severities.map((s, j) => severity(ctx, `${w}.severities[${j}]`, s))
          : ctx.fail(`${w}.severities`, 'must be a list');
    const ruleIds =
      n.rules === undefined ? [] : Array.isArray(n.rules) ? n.rules.map((s, j) => str(ctx, `${w}.rules[${j}]`, s)) : ctx.fail(`${w}.rules`, 'must be a list');
    for (const [j, id] of ruleIds.entries())
      if (!rules.some((r) => r.id === id && r.kind !== 'aggregation')) ctx.fail(`${w}.rules[${j}]`, `no rule with id "${id}"`);
    const name = n.name === undefined ? `${type}-${i}` : str(ctx, `${w}.name`, n.name, ID, 'letters, digits, . _ -');
    return { name, type: type as NotifierType, url, severities: sev, rules: ruleIds };
  });

  if (rules.length === 0) ctx.fail('rules', 'the file defines no rules and no aggregations');
  const inputTopics = [...new Set(rules.map((r) => r.topic))];
  const tableTopics = [...new Set([...tables.values()].map((t) => t.topic))];
  const outputTopics = [
    ...new Set(
      rules
        .flatMap((r) => [r.kind === 'aggregation' ? r.sink : undefined, r.kind !== 'predicate' ? r.lateTopic : undefined])
        .filter((t): t is string => t !== undefined),
    ),
  ];
  for (const t of tableTopics) if (inputTopics.includes(t)) ctx.fail('tables', `topic "${t}" is both a table and a rule input; read it as one or the other`);
  return { rules, tables: [...tables.values()], notifiers, inputTopics, tableTopics, outputTopics, source: { text, file } };
}

/** Reads and validates the rules file. */
export function loadRuleFile(file: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuleFileError('ALERTING_RULES', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseRuleFile(text, file);
}
