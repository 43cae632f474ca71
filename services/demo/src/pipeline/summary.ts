/** The demo's progress line and final summary, and whether what landed matches what was written. Pure. */

/** Records of one Kafka topic as they landed at one destination, each record identified by its bytes. */
export interface RecordAccount {
  /** Distinct records in the source topic (read so far). */
  expected: number;
  /** Records at the destination, duplicates included. */
  landed: number;
  /** Topic records not at the destination. */
  missing: number;
  /** Extra copies of topic records (the bridge is at-least-once: reported, not a failure). */
  duplicates: number;
  /** Records at the destination that are not in the topic. */
  unexpected: number;
}

/** Counts of `value → occurrences`. */
export type Multiset = ReadonlyMap<string, number>;

export function accountRecords(topic: Multiset, destination: Multiset): RecordAccount {
  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  let landed = 0;
  for (const [value, n] of destination) {
    landed += n;
    if (topic.has(value)) duplicates += Math.max(0, n - topic.get(value)!);
    else unexpected += n;
  }
  for (const value of topic.keys()) if (!destination.has(value)) missing++;
  return { expected: topic.size, landed, missing, duplicates, unexpected };
}

/** Source and warehouse rows of the captured tables, keyed by primary key, compared value by value. */
export interface RowComparison {
  sourceRows: number;
  warehouseRows: number;
  /** Source rows with no warehouse row of the same key. */
  missing: number;
  /** Warehouse rows with no source row of the same key. */
  extra: number;
  /** Rows present on both sides whose column values differ. */
  different: number;
  /** One differing key, to look at. */
  example?: string;
}

/** `rows`: primary key (as text) → the row's values (as text), per side. */
export function compareRows(source: ReadonlyMap<string, string>, warehouse: ReadonlyMap<string, string>): RowComparison {
  const out: RowComparison = { sourceRows: source.size, warehouseRows: warehouse.size, missing: 0, extra: 0, different: 0 };
  for (const [key, row] of source) {
    const w = warehouse.get(key);
    if (w === undefined) out.missing++;
    else if (w !== row) out.different++;
    else continue;
    out.example ??= key;
  }
  for (const key of warehouse.keys()) {
    if (source.has(key)) continue;
    out.extra++;
    out.example ??= key;
  }
  return out;
}

export interface LandedCounts {
  /** Changes committed to PostgreSQL by the generator. */
  rowsWritten: number;
  /** Change events in the CDC topics. */
  eventsCaptured: number;
  warehouse: RowComparison;
  /** Alerts on the alerts topic (read committed). */
  alertsFired: number;
  /** Transaction events in Kinesis, claim events delivered by Firehose, policy events in the S3 route's bucket. */
  kinesis: RecordAccount;
  /** Transaction events read back through `tideway kinesis-api` from the transactions topic itself. */
  kinesisApi: RecordAccount;
  firehose: RecordAccount;
  s3: RecordAccount;
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

const delivered = (a: RecordAccount) => a.expected - a.missing;

export function progressLine(elapsedS: number, c: LandedCounts): string {
  return (
    `[${String(Math.round(elapsedS)).padStart(4)}s] written ${c.rowsWritten} | captured ${c.eventsCaptured} | warehouse rows ${c.warehouse.warehouseRows}/${c.warehouse.sourceRows}` +
    ` | alerts ${c.alertsFired} | kinesis ${delivered(c.kinesis)}/${c.kinesis.expected} | firehose ${delivered(c.firehose)}/${c.firehose.expected}` +
    ` | s3 ${delivered(c.s3)}/${c.s3.expected} | kinesis api ${delivered(c.kinesisApi)}/${c.kinesisApi.expected}`
  );
}

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/**
 * Every event of a topic is at the destination and nothing else is. Duplicates are allowed and shown
 * for an at-least-once destination; `exactlyOnce` (a reader of the topic itself) fails on them.
 */
function recordCheck(what: string, a: RecordAccount, events: number, where: string, exactlyOnce = false): Check {
  const ok = a.expected === events && a.missing === 0 && a.unexpected === 0 && (!exactlyOnce || a.duplicates === 0);
  const extra = [
    a.duplicates > 0 ? `${a.duplicates} duplicates${exactlyOnce ? '' : ' (at-least-once)'}` : '',
    a.unexpected > 0 ? `${a.unexpected} not from the topic` : '',
  ].filter(Boolean);
  return { what, ok, detail: `${delivered(a)} of ${events} events ${where}${extra.length ? `, ${extra.join(', ')}` : ''}` };
}

/** The pipeline is settled and lost nothing when every check passes. */
export function consistencyChecks(c: LandedCounts, e: Expectations): Check[] {
  const w = c.warehouse;
  const rowProblems = [w.missing && `${w.missing} missing`, w.different && `${w.different} different`, w.extra && `${w.extra} extra`].filter(Boolean);
  return [
    {
      what: 'every change captured (one event per committed change)',
      ok: c.eventsCaptured === c.rowsWritten,
      detail: `${c.eventsCaptured} events / ${c.rowsWritten} changes`,
    },
    {
      what: 'the warehouse equals the source, row by row',
      ok: w.sourceRows > 0 && rowProblems.length === 0,
      detail: `${w.warehouseRows} warehouse rows / ${w.sourceRows} source rows${rowProblems.length ? `: ${rowProblems.join(', ')} (e.g. key ${w.example})` : ''}`,
    },
    recordCheck('every transaction event reached Kinesis', c.kinesis, e.transactionEvents, `in ${c.kinesis.landed} records`),
    // The API reads the topic itself: each event exactly once, none missing, nothing else.
    recordCheck('transactions readable through the Kinesis API', c.kinesisApi, e.transactionEvents, `in ${c.kinesisApi.landed} records`, true),
    {
      what: 'fraud alerts fired for the fraudulent transactions',
      ok: c.alertsFired === e.fraudTransactions,
      detail: `${c.alertsFired} alerts / ${e.fraudTransactions} fraudulent transactions`,
    },
    recordCheck('every claim event delivered by Firehose', c.firehose, e.claimEvents, `in ${c.firehoseObjects} objects`),
    recordCheck('every policy event written to S3', c.s3, e.policyEvents, `in ${c.s3Objects} objects`),
  ];
}

export function summaryText(c: LandedCounts, checks: Check[], where: string[]): string {
  const rows: [string, number][] = [
    ['rows written to PostgreSQL (changes)', c.rowsWritten],
    ['change events captured in Kafka', c.eventsCaptured],
    ['rows in the warehouse', c.warehouse.warehouseRows],
    ['alerts fired', c.alertsFired],
    ['records in Kinesis', c.kinesis.landed],
    ['records read through the Kinesis API', c.kinesisApi.landed],
    ['records delivered by Firehose', c.firehose.landed],
    ['objects delivered by Firehose', c.firehoseObjects],
    ['records in S3', c.s3.landed],
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
