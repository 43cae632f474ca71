/**
 * Runs a Firehose data-transformation Lambda handler in process, with the Lambda contract:
 *   in:  { invocationId, deliveryStreamArn, region, records: [{ recordId, approximateArrivalTimestamp, data (base64) }] }
 *   out: { records: [{ recordId, result: 'Ok' | 'Dropped' | 'ProcessingFailed', data (base64) }] }
 * so an existing Firehose transform runs unchanged. As in Firehose, a record missing from the
 * answer, an unknown result, or a handler that throws makes the records ProcessingFailed.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@tideway/runtime';

export type TransformOutcome = { result: 'Ok'; data: Buffer } | { result: 'Dropped' } | { result: 'ProcessingFailed'; error: string };

export interface TransformInput {
  data: Buffer;
  /** Epoch millis (the Kafka record's timestamp). */
  timestamp: number;
}

export type LambdaHandler = (event: unknown, context: unknown, callback?: (err: unknown, result?: unknown) => void) => unknown;

export interface TransformEvent {
  invocationId: string;
  deliveryStreamArn: string;
  region: string;
  records: Array<{ recordId: string; approximateArrivalTimestamp: number; data: string }>;
}

export function buildTransformEvent(route: string, records: readonly TransformInput[], region: string, invocationId: string = randomUUID()): TransformEvent {
  return {
    invocationId,
    deliveryStreamArn: `arn:aws:firehose:${region}:000000000000:deliverystream/${route}`,
    region,
    records: records.map((r, i) => ({ recordId: String(i), approximateArrivalTimestamp: r.timestamp, data: r.data.toString('base64') })),
  };
}

/** Maps a handler's answer back to the input records, one outcome each, in input order. */
export function interpretTransformResult(count: number, result: unknown): TransformOutcome[] {
  const failedAll = (error: string): TransformOutcome[] => Array.from({ length: count }, () => ({ result: 'ProcessingFailed' as const, error }));
  if (typeof result !== 'object' || result === null || !Array.isArray((result as { records?: unknown }).records)) {
    return failedAll('transform returned no records array');
  }
  const out: Array<TransformOutcome | undefined> = new Array(count).fill(undefined);
  for (const r of (result as { records: unknown[] }).records) {
    if (typeof r !== 'object' || r === null) continue;
    const { recordId, result: res, data } = r as { recordId?: unknown; result?: unknown; data?: unknown };
    const i = typeof recordId === 'string' && /^\d+$/.test(recordId) ? Number(recordId) : -1;
    if (i < 0 || i >= count || out[i] !== undefined) continue;
    if (res === 'Ok') {
      out[i] =
        typeof data === 'string' ? { result: 'Ok', data: Buffer.from(data, 'base64') } : { result: 'ProcessingFailed', error: 'result Ok without base64 data' };
    } else if (res === 'Dropped') out[i] = { result: 'Dropped' };
    else if (res === 'ProcessingFailed') out[i] = { result: 'ProcessingFailed', error: 'transform returned ProcessingFailed' };
    else out[i] = { result: 'ProcessingFailed', error: `transform returned unknown result ${JSON.stringify(res)}` };
  }
  return out.map((o) => o ?? { result: 'ProcessingFailed', error: 'record missing from the transform result' });
}

export class FirehoseTransform {
  constructor(
    private readonly route: string,
    private readonly handler: LambdaHandler,
    private readonly region: string,
  ) {}

  /** Loads `handler` from a CommonJS module; a missing module or handler is a config error. */
  static load(route: string, path: string, region: string): FirehoseTransform {
    let mod: { handler?: unknown };
    try {
      mod = require(path) as { handler?: unknown };
    } catch (err) {
      throw new ConfigError(`route "${route}" transform`, `cannot load ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof mod.handler !== 'function') throw new ConfigError(`route "${route}" transform`, `${path} does not export a handler function (exports.handler)`);
    return new FirehoseTransform(route, mod.handler as LambdaHandler, region);
  }

  async apply(records: readonly TransformInput[]): Promise<TransformOutcome[]> {
    if (records.length === 0) return [];
    const event = buildTransformEvent(this.route, records, this.region);
    const context = { functionName: `tideway-bridge-${this.route}`, awsRequestId: event.invocationId, getRemainingTimeInMillis: () => 60_000 };
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        const ret = this.handler(event, context, (err, res) => (err ? reject(err) : resolve(res)));
        if (ret && typeof (ret as Promise<unknown>).then === 'function') (ret as Promise<unknown>).then(resolve, reject);
      });
      return interpretTransformResult(records.length, result);
    } catch (err) {
      const error = `transform threw: ${err instanceof Error ? err.message : String(err)}`;
      return records.map(() => ({ result: 'ProcessingFailed', error }));
    }
  }
}
