import { consistencyChecks, progressLine, summaryText, type LandedCounts } from '../../src/pipeline/summary';

const settled: LandedCounts = { rowsWritten: 100, oltpRows: 80, eventsCaptured: 100, warehouseRows: 80, alertsFired: 3, kinesisRecords: 40, firehoseObjects: 5, s3Objects: 2 };
const expected = { transactionEvents: 40, fraudTransactions: 3, claimEvents: 30, policyEvents: 30 };

test('all checks pass when every destination holds what was written', () => {
  expect(consistencyChecks(settled, expected).filter((c) => !c.ok)).toEqual([]);
});

test.each([
  ['a lost change event', { eventsCaptured: 99 }, 'every change captured'],
  ['a missing warehouse row', { warehouseRows: 79 }, 'the warehouse holds every row'],
  ['a duplicate Kinesis record', { kinesisRecords: 41 }, 'every transaction event reached Kinesis'],
  ['a missing alert', { alertsFired: 2 }, 'fraud alerts fired'],
  ['nothing in S3', { s3Objects: 0 }, 'policies written to S3'],
])('%s fails its check', (_name, change, what) => {
  const failed = consistencyChecks({ ...settled, ...change }, expected).filter((c) => !c.ok);
  expect(failed.map((c) => c.what)).toEqual([expect.stringContaining(what)]);
});

test('the progress line and the summary show every number', () => {
  expect(progressLine(12.4, settled)).toBe('[  12s] written 100 | captured 100 | warehouse rows 80/80 | alerts 3 | kinesis 40 | firehose objects 5 | s3 objects 2');
  const text = summaryText(settled, consistencyChecks(settled, expected), ['here']);
  for (const n of ['100', '80', '40']) expect(text).toContain(n);
  expect(text).not.toContain('FAIL');
});
