/**
 * deploy/prometheus and deploy/grafana, checked with Debian's promtool: the scrape config and
 * rules load, the alert rules' unit tests pass, and every dashboard query is valid PromQL.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadMonitoringQueries } from './monitoring-queries';
import { GRAFANA_DIR, PROMETHEUS_DIR, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS, ensureTool, run, tempFile } from './tools';

jest.setTimeout(TOOL_INSTALL_TIMEOUT_MS);

let promtool: string;
beforeAll(() => {
  promtool = join(ensureTool('prometheus'), 'promtool');
});

test('promtool check config: the compose scrape config and the rule files it loads', () => {
  const r = run(promtool, ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')]);
  expect(r.stdout + r.stderr).toMatch(/SUCCESS: 1 rule files found/);
  expect(r.status).toBe(0);
});

test('promtool check rules', () => {
  const r = run(promtool, ['check', 'rules', join(PROMETHEUS_DIR, 'rules', 'tideway.rules.yml')]);
  expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  expect(r.status).toBe(0);
});

test('promtool test rules: each alert fires on what should trip it and stays silent otherwise', () => {
  const r = run(promtool, ['test', 'rules', join(PROMETHEUS_DIR, 'tests', 'tideway.rules.test.yml')]);
  expect(r.stdout + r.stderr).toContain('SUCCESS');
  expect(r.status).toBe(0);
});

test('promtool test rules fails when an alert is expected that does not fire (the check can fail)', () => {
  const broken = `rule_files: [${JSON.stringify(join(PROMETHEUS_DIR, 'rules', 'tideway.rules.yml'))}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="tideway-cdc", instance="cdc:9464"}'
        values: '1 1 1 1 1'
    alert_rule_test:
      - eval_time: 4m
        alertname: TidewayServiceDown
        exp_alerts: [{exp_labels: {severity: critical, job: tideway-cdc, instance: "cdc:9464"}}]
`;
  const r = run(promtool, ['test', 'rules', tempFile('broken.test.yml', broken)]);
  expect(r.status).not.toBe(0);
});

test('every dashboard query is valid PromQL (checked by promtool as recording rules)', () => {
  const queries = loadMonitoringQueries(REPO_ROOT).filter((q) => q.origin.startsWith('dashboard'));
  expect(queries.length).toBeGreaterThan(50);
  const rules = { groups: [{ name: 'dashboard-queries', rules: queries.map((q, i) => ({ record: `dashboard:query:${i}`, expr: q.expr })) }] };
  const r = run(promtool, ['check', 'rules', tempFile('dashboards.rules.yml', stringify(rules))]);
  expect(r.stdout + r.stderr).toContain(`SUCCESS: ${queries.length} rules found`);
  expect(r.status).toBe(0);
});

describe('Grafana dashboards', () => {
  const dir = join(GRAFANA_DIR, 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  test('an overview and one dashboard per service', () => {
    expect(files.sort()).toEqual([
      'tideway-alerting.json',
      'tideway-bridge.json',
      'tideway-cdc.json',
      'tideway-dwh-loader.json',
      'tideway-kinesis-api.json',
      'tideway-overview.json',
    ]);
  });

  test.each(files)('%s: unique uid, panel ids and positions, and every query on the selectable Prometheus data source', (f) => {
    const d = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    expect(d.uid).toBe(f.replace(/\.json$/, ''));
    expect(d.templating.list.find((v: { name: string }) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const ids = d.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets.length).toBeGreaterThan(0);
    }
  });

  test('the compose provisioning points at the dashboards folder and the stack Prometheus', () => {
    expect(readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'tideway.yml'), 'utf8')).toContain('path: /var/lib/grafana/dashboards/tideway');
    expect(readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')).toContain('url: http://prometheus:9090');
  });
});
