import { accountRecords, compareRows, consistencyChecks, progressLine, summaryText, type LandedCounts, type RecordAccount } from '../../src/pipeline/summary';

const account = (n: number): RecordAccount => ({ expected: n, landed: n, missing: 0, duplicates: 0, unexpected: 0 });
const settled: LandedCounts = {
  rowsWritten: 100,
  eventsCaptured: 100,
  warehouse: { sourceRows: 80, warehouseRows: 80, missing: 0, extra: 0, different: 0 },
  alertsFired: 3,
  kinesis: account(40),
  kinesisApi: account(40),
  firehose: account(30),
  s3: account(30),
  firehoseObjects: 5,
  s3Objects: 2,
};
const expected = { transactionEvents: 40, fraudTransactions: 3, claimEvents: 30, policyEvents: 30 };

test('all checks pass when every destination holds what was written', () => {
  expect(consistencyChecks(settled, expected).filter((c) => !c.ok)).toEqual([]);
});

test.each([
  ['a lost change event', { eventsCaptured: 99 }, 'every change captured'],
  ['a missing warehouse row', { warehouse: { ...settled.warehouse, warehouseRows: 79, missing: 1, example: 'claims(7)' } }, 'the warehouse equals the source'],
  ['a warehouse row with another value', { warehouse: { ...settled.warehouse, different: 1, example: 'claims(7)' } }, 'the warehouse equals the source'],
  ['a warehouse row the source does not have', { warehouse: { ...settled.warehouse, warehouseRows: 81, extra: 1 } }, 'the warehouse equals the source'],
  ['a transaction event missing in Kinesis', { kinesis: { ...account(40), landed: 39, missing: 1 } }, 'every transaction event reached Kinesis'],
  ['the topic not read to its end yet', { kinesis: account(39) }, 'every transaction event reached Kinesis'],
  ['a transaction event not readable through the Kinesis API', { kinesisApi: { ...account(40), landed: 39, missing: 1 } }, 'readable through the Kinesis API'],
  ['a transaction event read twice through the Kinesis API', { kinesisApi: { ...account(40), landed: 41, duplicates: 1 } }, 'readable through the Kinesis API'],
  [
    'a record through the Kinesis API that is not in the topic',
    { kinesisApi: { ...account(40), landed: 41, unexpected: 1 } },
    'readable through the Kinesis API',
  ],
  ['a missing alert', { alertsFired: 2 }, 'fraud alerts fired'],
  ['a claim event missing in the Firehose objects', { firehose: { ...account(30), missing: 1, landed: 29 } }, 'every claim event delivered by Firehose'],
  ['a record in S3 that is not in the topic', { s3: { ...account(30), landed: 31, unexpected: 1 } }, 'every policy event written to S3'],
])('%s fails its check', (_name, change, what) => {
  const failed = consistencyChecks({ ...settled, ...change }, expected).filter((c) => !c.ok);
  expect(failed.map((c) => c.what)).toEqual([expect.stringContaining(what)]);
});

test('duplicates at an at-least-once destination pass, and are shown', () => {
  const checks = consistencyChecks({ ...settled, kinesis: { ...account(40), landed: 42, duplicates: 2 } }, expected);
  expect(checks.every((c) => c.ok)).toBe(true);
  expect(checks.find((c) => c.what.includes('Kinesis'))!.detail).toContain('2 duplicates');
});

test('accountRecords: missing, duplicated and foreign records, each by its bytes', () => {
  const topic = new Map([
    ['a', 1],
    ['b', 1],
    ['c', 1],
  ]);
  const destination = new Map([
    ['a', 3],
    ['c', 1],
    ['x', 1],
  ]);
  expect(accountRecords(topic, destination)).toEqual({ expected: 3, landed: 5, missing: 1, duplicates: 2, unexpected: 1 });
  expect(accountRecords(topic, topic)).toEqual({ expected: 3, landed: 3, missing: 0, duplicates: 0, unexpected: 0 });
});

test('compareRows: by key, value by value', () => {
  const source = new Map([
    ['t(1)', '(1,a)'],
    ['t(2)', '(2,b)'],
    ['t(3)', '(3,c)'],
  ]);
  expect(compareRows(source, new Map(source))).toEqual({ sourceRows: 3, warehouseRows: 3, missing: 0, extra: 0, different: 0 });
  const warehouse = new Map([
    ['t(1)', '(1,a)'],
    ['t(2)', '(2,B)'],
    ['t(4)', '(4,d)'],
  ]);
  expect(compareRows(source, warehouse)).toEqual({ sourceRows: 3, warehouseRows: 3, missing: 1, extra: 1, different: 1, example: 't(2)' });
});

test('the progress line and the summary show every number', () => {
  expect(progressLine(12.4, settled)).toBe(
    '[  12s] written 100 | captured 100 | warehouse rows 80/80 | alerts 3 | kinesis 40/40 | firehose 30/30 | s3 30/30 | kinesis api 40/40',
  );
  const text = summaryText(settled, consistencyChecks(settled, expected), ['here']);
  for (const n of ['100', '80', '40']) expect(text).toContain(n);
  expect(text).toMatch(/records read through the Kinesis API\s+40/);
  expect(text).toContain('ok    transactions readable through the Kinesis API (40 of 40 events in 40 records)');
  expect(text).not.toContain('FAIL');
});
