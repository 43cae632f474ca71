import { DLQ_HEADER } from '@tideway/runtime';
import type { BatchEvaluation } from '../../src/pipeline/batch-evaluation';
import { emptyOutput } from '../../src/pipeline/partition-state';
import { approxSize, MAX_PENDING_BYTES, PendingTransaction } from '../../src/pipeline/pending-transaction';
import { batchOf, message, pendingContext } from '../support/pipeline-fixture';

const evaluation = (over: Partial<BatchEvaluation> = {}): BatchEvaluation => ({
  alertRecords: [],
  alertCounts: [],
  forwarded: [],
  bytes: 0,
  deadLetters: [],
  evaluationErrors: [],
  seconds: 0,
  ...over,
});

describe('PendingTransaction', () => {
  it('is empty until a batch, output or state change joins it', () => {
    const p = new PendingTransaction();
    expect(p.empty).toBe(true);
    p.stateTouched = true;
    expect(p.empty).toBe(false);
  });

  it('resumes at the first batch it holds and commits the offset after the last', () => {
    const p = new PendingTransaction();
    const first = batchOf([message('in', 0, 5, 'a'), message('in', 0, 6, 'b')], '10');
    const second = batchOf([message('in', 0, 8, 'c')], '12');
    p.begin(first);
    expect(p.include(first)).toBe(7n);
    p.begin(second);
    expect(p.include(second)).toBe(9n);
    expect([p.base, p.next, p.highWatermark]).toEqual(['5', '9', '12']);
  });

  it('takes stage 1 results: alert records, bytes and dead letters to the topic dead-letter topic', () => {
    const ctx = pendingContext();
    const p = new PendingTransaction();
    const batch = batchOf([message('in', 0, 1, 'ok'), message('in', 0, 2, 'not json')]);
    const alert = { topic: 'alerts', key: 'a', value: '{}' };
    p.addInput(batch, evaluation({ alertRecords: [alert], bytes: 100, deadLetters: [{ index: 1, reason: 'malformed_json', error: 'bad' }] }), ctx);
    expect(p.records[0]).toBe(alert);
    expect(p.records[1].topic).toBe('in.dlq');
    expect(p.records[1].headers?.[DLQ_HEADER.originOffset]).toBe('2');
    expect(p.bytes).toBe(100);
  });

  it('takes window output and counts the changelog of changed keys in its size; full beyond the bound', () => {
    const ctx = pendingContext();
    const p = new PendingTransaction();
    const out = emptyOutput();
    out.records.push({ topic: 'sink', key: 'k', value: 'v' });
    p.addStateOutput(out, 2, ctx);
    expect(p.records).toEqual(out.records);
    expect(p.bytes).toBe(approxSize(out.records[0]) + 2 * 64);
    expect(p.full).toBe(false);
    p.bytes = MAX_PENDING_BYTES;
    expect(p.full).toBe(true);
  });

  it('counts its alerts and events in metrics only once committed', async () => {
    const ctx = pendingContext();
    const p = new PendingTransaction();
    p.addInput(batchOf([message('in', 0, 1, 'x')]), evaluation({ alertCounts: [{ rule: 'r', severity: 'high', n: 2 }] }), ctx);
    const alerts = async () => (await ctx.metrics.alerts.get()).values.reduce((n, v) => n + v.value, 0);
    const events = async () => (await ctx.metrics.eventsEvaluated.get()).values.reduce((n, v) => n + v.value, 0);
    expect([await alerts(), await events()]).toEqual([0, 0]);
    p.committed(ctx.metrics);
    expect([await alerts(), await events()]).toEqual([2, 1]);
  });
});
