/**
 * Firehose's index rotation for the OpenSearch destination: the index name gets a suffix from the
 * record's time, as Firehose names them (myindex-2016-02-25-13, -2016-02-25, -2016-w08, -2016-02).
 * The time is the Kafka record timestamp (UTC), so a replayed record lands in the same index.
 */
export const ROTATION_PERIODS = ['NoRotation', 'OneHour', 'OneDay', 'OneWeek', 'OneMonth'] as const;
export type RotationPeriod = (typeof ROTATION_PERIODS)[number];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** ISO 8601 week-based year and week of a UTC date (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(date: Date): { year: number; week: number } {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides its year
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

export function rotatedIndexName(index: string, period: RotationPeriod, timestampMs: number): string {
  if (period === 'NoRotation') return index;
  const t = new Date(timestampMs);
  const y = t.getUTCFullYear();
  const m = pad(t.getUTCMonth() + 1);
  const d = pad(t.getUTCDate());
  switch (period) {
    case 'OneHour':
      return `${index}-${y}-${m}-${d}-${pad(t.getUTCHours())}`;
    case 'OneDay':
      return `${index}-${y}-${m}-${d}`;
    case 'OneWeek': {
      const w = isoWeek(t);
      return `${index}-${w.year}-w${pad(w.week)}`;
    }
    case 'OneMonth':
      return `${index}-${y}-${m}`;
  }
}
