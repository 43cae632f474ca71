import { exportedFamilies, metricFamilyCandidates, metricNames, withoutGrafanaVariables } from './monitoring-queries';

describe('metricNames', () => {
  test('finds the metrics of an aggregation, not functions, label names or label values', () => {
    expect(metricNames('sum by (service, topic) (increase(tideway_dlq_records_total{service="bridge", reason=~"a|b"}[10m])) > 0')).toEqual([
      'tideway_dlq_records_total',
    ]);
  });
  test('finds histogram series and both sides of a ratio', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(tideway_x_seconds_bucket[5m])))')).toEqual(['tideway_x_seconds_bucket']);
    expect(metricNames('sum(rate(a_sum[5m])) / sum(rate(a_count[5m]))')).toEqual(['a_count', 'a_sum']);
  });
  test('finds up{job=...}', () => {
    expect(metricNames('up{job=~"tideway-.+"} == 0')).toEqual(['up']);
  });
});

test('withoutGrafanaVariables makes a panel query plain PromQL', () => {
  expect(withoutGrafanaVariables('rate(x[$__rate_interval])')).toBe('rate(x[5m])');
});

test('metricFamilyCandidates maps histogram series to their family', () => {
  expect(metricFamilyCandidates('tideway_x_seconds_bucket')).toEqual(['tideway_x_seconds_bucket', 'tideway_x_seconds']);
  expect(metricFamilyCandidates('tideway_x_total')).toEqual(['tideway_x_total']);
});

test('exportedFamilies reads # TYPE lines, including families without samples yet', () => {
  const text = '# HELP a_total A.\n# TYPE a_total counter\n# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 0\n';
  expect([...exportedFamilies(text)]).toEqual([
    ['a_total', 'counter'],
    ['h', 'histogram'],
  ]);
});
