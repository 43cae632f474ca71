/** Increase/DecreaseStreamRetentionPeriod: the topic's `retention.ms`, with Kinesis's checks against the current period. */
import { invalidArgument } from '../errors';
import type { Requests } from '../protocol/operations';
import { ACCOUNT_ID, HOUR_MS, requireStream, type OperationContext } from './context';
import { retentionHoursOf } from './describe';

export async function increaseRetention(ctx: OperationContext, req: Requests['IncreaseStreamRetentionPeriod']): Promise<Record<string, unknown>> {
  await requireStream(ctx, req.streamName);
  const current = retentionHoursOf(await ctx.store.retentionMs(req.streamName));
  if (req.retentionPeriodHours < current) {
    throw invalidArgument(
      `Requested retention period (${req.retentionPeriodHours} hours) for stream ${req.streamName} under account ${ACCOUNT_ID} can not be shorter than existing retention period (${current} hours). Use DecreaseRetentionPeriod API.`,
    );
  }
  await ctx.store.setRetentionMs(req.streamName, req.retentionPeriodHours * HOUR_MS);
  return {};
}

export async function decreaseRetention(ctx: OperationContext, req: Requests['DecreaseStreamRetentionPeriod']): Promise<Record<string, unknown>> {
  await requireStream(ctx, req.streamName);
  const current = retentionHoursOf(await ctx.store.retentionMs(req.streamName));
  if (req.retentionPeriodHours > current) {
    throw invalidArgument(
      `Requested retention period (${req.retentionPeriodHours} hours) for stream ${req.streamName} under account ${ACCOUNT_ID} can not be longer than existing retention period (${current} hours). Use IncreaseRetentionPeriod API.`,
    );
  }
  await ctx.store.setRetentionMs(req.streamName, req.retentionPeriodHours * HOUR_MS);
  return {};
}
