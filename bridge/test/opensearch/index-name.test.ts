import { isoWeek, rotatedIndexName } from '../../src/opensearch/index-name';

const t = Date.UTC(2016, 1, 25, 13, 5, 0); // 2016-02-25T13:05Z, as in Firehose's documentation

describe('rotatedIndexName (Firehose index rotation)', () => {
  test.each([
    ['NoRotation', 'myindex'],
    ['OneHour', 'myindex-2016-02-25-13'],
    ['OneDay', 'myindex-2016-02-25'],
    ['OneWeek', 'myindex-2016-w08'],
    ['OneMonth', 'myindex-2016-02'],
  ] as const)('%s → %s', (period, name) => {
    expect(rotatedIndexName('myindex', period, t)).toBe(name);
  });

  test('uses UTC, not the local zone', () => {
    expect(rotatedIndexName('x', 'OneDay', Date.UTC(2024, 11, 31, 23, 59, 59))).toBe('x-2024-12-31');
    expect(rotatedIndexName('x', 'OneHour', Date.UTC(2025, 0, 1, 0, 0, 0))).toBe('x-2025-01-01-00');
  });

  test('ISO weeks at year boundaries', () => {
    expect(isoWeek(new Date(Date.UTC(2021, 0, 3)))).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(new Date(Date.UTC(2024, 11, 30)))).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(new Date(Date.UTC(2026, 0, 1)))).toEqual({ year: 2026, week: 1 });
    expect(rotatedIndexName('x', 'OneWeek', Date.UTC(2021, 0, 3))).toBe('x-2020-w53');
  });
});
