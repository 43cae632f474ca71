/**
 * The PromQL that the shipped monitoring runs: every Grafana panel target and every alert rule
 * expression, and the metric names they read. Pure functions over the files' contents.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface MonitoringQuery {
  /** Where it comes from, for failure messages: `dashboard tideway-cdc.json: panel "Replication lag"`. */
  origin: string;
  expr: string;
}

/** Grafana's range variables, replaced by a fixed range so the expression is plain PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

export function dashboardQueries(fileName: string, dashboard: { panels?: unknown[] }): MonitoringQuery[] {
  const out: MonitoringQuery[] = [];
  const visit = (panels: unknown[] | undefined) => {
    for (const p of (panels ?? []) as { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }[]) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ origin: `dashboard ${fileName}: panel "${p.title}"`, expr: withoutGrafanaVariables(t.expr) });
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

export function ruleQueries(fileName: string, rules: { groups?: { rules?: { alert?: string; record?: string; expr: string }[] }[] }): MonitoringQuery[] {
  return (rules.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => ({ origin: `rules ${fileName}: ${r.alert ?? r.record}`, expr: r.expr })));
}

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'rate',
  'irate',
  'increase',
  'delta',
  'histogram_quantile',
  'offset',
  'bool',
  'le',
  'topk',
  'bottomk',
  'abs',
  'absent',
  'clamp_min',
  'clamp_max',
]);

/**
 * Metric names an expression selects. Label names inside `{...}` and `by (...)` and string
 * literals are not metric names; `_bucket`/`_sum`/`_count` of a histogram are reported as written.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    const name = m[1];
    if (PROMQL_WORDS.has(name) || /^(e|inf|nan)$/i.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** The family a series name belongs to in the exposition format (histogram/summary suffixes). */
export function metricFamilyCandidates(name: string): string[] {
  const out = [name];
  for (const suffix of ['_bucket', '_sum', '_count']) if (name.endsWith(suffix)) out.push(name.slice(0, -suffix.length));
  return out;
}

/** Metric families declared in a Prometheus text exposition (`# TYPE name kind`), declared even before a first sample. */
export function exportedFamilies(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

export function loadMonitoringQueries(repoRoot: string): MonitoringQuery[] {
  const dashDir = join(repoRoot, 'deploy', 'grafana', 'dashboards');
  const rulesDir = join(repoRoot, 'deploy', 'prometheus', 'rules');
  const fromDashboards = readdirSync(dashDir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => dashboardQueries(f, JSON.parse(readFileSync(join(dashDir, f), 'utf8'))));
  const fromRules = readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .flatMap((f) => ruleQueries(f, parse(readFileSync(join(rulesDir, f), 'utf8'))));
  return [...fromDashboards, ...fromRules];
}
