/** The demo's progress line and final summary, and whether what landed matches what was written. Pure. */

export interface LandedCounts {
  /** Changes committed to PostgreSQL by the generator. */
  rowsWritten: number;
  /** Distinct rows in the OLTP tables (inserts; updates change rows in place). */
  oltpRows: number;
  /** Change events in the CDC topics. */
  eventsCaptured: number;
  /** Rows in the warehouse tables. */
  warehouseRows: number;
  /** Alerts on the alerts topic (read committed). */
  alertsFired: number;
  /** Records in the Kinesis stream. */
  kinesisRecords: number;
  /** Objects in the Firehose bucket and the S3 route's bucket. */
  firehoseObjects: number;
  s3Objects: number;
}

export interface Expectations {
  /** Transactions inserted: each is one Kinesis record. */
  transactionEvents: number;
  /** Transactions written to trip a fraud rule. */
  fraudTransactions: number;
  claimEvents: number;
  policyEvents: number;
}

export function progressLine(elapsedS: number, c: LandedCounts): string {
  return (
    `[${String(Math.round(elapsedS)).padStart(4)}s] written ${c.rowsWritten} | captured ${c.eventsCaptured} | warehouse rows ${c.warehouseRows}/${c.oltpRows}` +
    ` | alerts ${c.alertsFired} | kinesis ${c.kinesisRecords} | firehose objects ${c.firehoseObjects} | s3 objects ${c.s3Objects}`
  );
}

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** The pipeline is settled and lost nothing when every check passes. */
export function consistencyChecks(c: LandedCounts, e: Expectations): Check[] {
  return [
    { what: 'every change captured (one event per committed change)', ok: c.eventsCaptured === c.rowsWritten, detail: `${c.eventsCaptured} events / ${c.rowsWritten} changes` },
    { what: 'the warehouse holds every row (upserts: one row per key)', ok: c.warehouseRows === c.oltpRows, detail: `${c.warehouseRows} warehouse rows / ${c.oltpRows} OLTP rows` },
    { what: 'every transaction event reached Kinesis', ok: c.kinesisRecords === e.transactionEvents, detail: `${c.kinesisRecords} records / ${e.transactionEvents} transactions` },
    { what: 'fraud alerts fired for the fraudulent transactions', ok: c.alertsFired === e.fraudTransactions, detail: `${c.alertsFired} alerts / ${e.fraudTransactions} fraudulent transactions` },
    { what: 'claims delivered through Firehose', ok: e.claimEvents === 0 || c.firehoseObjects > 0, detail: `${c.firehoseObjects} objects for ${e.claimEvents} claim events` },
    { what: 'policies written to S3', ok: e.policyEvents === 0 || c.s3Objects > 0, detail: `${c.s3Objects} objects for ${e.policyEvents} policy events` },
  ];
}

export function summaryText(c: LandedCounts, checks: Check[], where: string[]): string {
  const rows: [string, number][] = [
    ['rows written to PostgreSQL (changes)', c.rowsWritten],
    ['change events captured in Kafka', c.eventsCaptured],
    ['rows in the warehouse', c.warehouseRows],
    ['alerts fired', c.alertsFired],
    ['records in Kinesis', c.kinesisRecords],
    ['objects delivered by Firehose', c.firehoseObjects],
    ['objects in S3', c.s3Objects],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '',
    'Summary (each number read from where the data landed):',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    'Checks:',
    ...checks.map((ch) => `  ${ch.ok ? 'ok  ' : 'FAIL'}  ${ch.what} (${ch.detail})`),
    '',
    'Where to look:',
    ...where.map((w) => `  ${w}`),
    '',
  ].join('\n');
}
