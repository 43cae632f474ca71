import { metricValue } from '../../test-support/metrics';

const TEXT = [
  '# HELP tideway_dlq_records_total Records sent to a dead-letter topic.',
  '# TYPE tideway_dlq_records_total counter',
  'tideway_dlq_records_total{service="bridge",topic="a",reason="too-large"} 2',
  'tideway_dlq_records_total{service="bridge",topic="a",reason="bad \\"json\\", really"} 3',
  'tideway_dlq_records_total{service="bridge",topic="ab",reason="too-large"} 5',
  'tideway_dlq_records_total_created{service="bridge",topic="a"} 1700000000',
  'tideway_up 1',
].join('\n');

describe('metricValue', () => {
  it('sums the samples whose labels include the ones asked for, by exact value', () => {
    expect(metricValue(TEXT, 'tideway_dlq_records_total')).toBe(10);
    expect(metricValue(TEXT, 'tideway_dlq_records_total', { topic: 'a' })).toBe(5);
    expect(metricValue(TEXT, 'tideway_dlq_records_total', { topic: 'a', reason: 'too-large' })).toBe(2);
    expect(metricValue(TEXT, 'tideway_dlq_records_total', { reason: 'bad "json", really' })).toBe(3);
  });

  it('matches the metric name exactly, with or without labels, and is 0 for a missing one', () => {
    expect(metricValue(TEXT, 'tideway_up')).toBe(1);
    expect(metricValue(TEXT, 'tideway_dlq_records')).toBe(0);
    expect(metricValue(TEXT, 'tideway_dlq_records_total', { topic: 'zz' })).toBe(0);
  });
});
