/**
 * Pure: which objects one flushed partition buffer becomes. Records are grouped by their
 * expanded prefix; records whose transform failed, or whose prefix cannot be expanded, go to
 * the error-output prefix as Firehose error records. Every object of the buffer is named with
 * the buffer's first offset, so the names only depend on where the buffer started.
 */
import { expandPrefix, objectKey, prefixPeriodMs, PrefixExpansionError } from './prefix';
import type { BridgeRecord } from '../sink';

export interface PlannedObject {
  kind: 'data' | 'error';
  key: string;
  lines: Buffer[];
  records: BridgeRecord[];
  firstOffset: string;
  lastOffset: string;
}

export interface ObjectPlan {
  objects: PlannedObject[];
  /** Records written as data (counted as delivered). */
  delivered: BridgeRecord[];
  /** Records written to the error output. */
  errorOutput: BridgeRecord[];
}

export interface BufferToPlan {
  route: string;
  topic: string;
  partition: number;
  /** In offset order. */
  records: readonly BridgeRecord[];
  failed: ReadonlySet<BridgeRecord>;
}

export interface PlanOptions {
  prefix: string;
  errorOutputPrefix: string;
  compression: 'gzip' | 'none';
  now: number;
}

const NL = Buffer.from('\n');

/**
 * Whether a record must open a new buffer instead of joining the partition's open one: a buffer
 * holds ascending offsets only. A record at or below the last one is a replay (a rebalance made
 * the consumer read again from the committed offset); mixing it in would name an object after a
 * first offset its records do not start from, and a kept replay of that name could then lack them.
 */
export function startsNewBuffer(lastOffset: string | undefined, offset: string): boolean {
  // Offsets are decimal strings without leading zeros: the shorter one is the smaller, and of equal
  // lengths the string order is the numeric one (no BigInt per record).
  return lastOffset !== undefined && (offset.length < lastOffset.length || (offset.length === lastOffset.length && offset <= lastOffset));
}

/** A Firehose-style error record, plus where it came from in Kafka. */
export function errorRecord(r: BridgeRecord, errorCode: string, errorMessage: string, route: string, now: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      attemptsMade: 1,
      arrivalTimestamp: r.message.timestamp,
      errorCode,
      errorMessage,
      attemptEndingTimestamp: now,
      rawData: (r.message.value ?? Buffer.alloc(0)).toString('base64'),
      lambdaArn: `tideway:bridge:${route}:transform`,
      kafka: { topic: r.message.topic, partition: r.message.partition, offset: r.message.offset },
    }) + '\n',
  );
}

export function planObjects(b: BufferToPlan, o: PlanOptions): ObjectPlan {
  const first = b.records[0]?.message.offset ?? '0';
  const seed = `${b.topic}+${b.partition}+${first}`;
  // Objects by expanded prefix (the object key is the prefix plus what is the same for the whole buffer).
  const groups = new Map<string, PlannedObject>();
  const delivered: BridgeRecord[] = [];
  const errorOutput: BridgeRecord[] = [];
  const add = (kind: 'data' | 'error', prefix: string, r: BridgeRecord, data: Buffer) => {
    let g = groups.get(prefix);
    if (!g) {
      const key = objectKey(prefix, b.topic, b.partition, first, o.compression);
      groups.set(prefix, (g = { kind, key, lines: [], records: [], firstOffset: r.message.offset, lastOffset: r.message.offset }));
    }
    g.lines.push(data);
    if (data.length === 0 || data[data.length - 1] !== 0x0a) g.lines.push(NL);
    g.records.push(r);
    g.lastOffset = r.message.offset;
  };
  // Records of one period of time expand alike: expand once per period, not per record.
  const period = prefixPeriodMs(o.prefix);
  let lastPeriod = NaN;
  let lastPrefix = '';
  const toError = (r: BridgeRecord, type: string, code: string, message: string) => {
    const prefix = expandPrefix(o.errorOutputPrefix, { timestamp: r.message.timestamp, record: () => undefined, randomSeed: seed, errorOutputType: type });
    add('error', prefix, r, errorRecord(r, code, message, b.route, o.now));
    errorOutput.push(r);
  };
  for (const r of b.records) {
    if (b.failed.has(r)) {
      toError(r, 'processing-failed', 'Lambda.ProcessingFailed', r.transformError ?? 'transform failed');
      continue;
    }
    const recordPeriod = period === Infinity ? 0 : Math.floor(r.message.timestamp / period);
    if (period > 0) {
      if (recordPeriod === lastPeriod) {
        add('data', lastPrefix, r, r.data);
        delivered.push(r);
        continue;
      }
    }
    let parsed: unknown;
    let parsedOnce = false;
    try {
      const prefix = expandPrefix(o.prefix, {
        timestamp: r.message.timestamp,
        randomSeed: seed,
        record: () => {
          if (!parsedOnce) {
            parsedOnce = true;
            try {
              parsed = JSON.parse(r.data.toString('utf8'));
            } catch {
              parsed = undefined;
            }
          }
          return parsed;
        },
      });
      add('data', prefix, r, r.data);
      delivered.push(r);
      if (period > 0) {
        lastPeriod = recordPeriod;
        lastPrefix = prefix;
      }
    } catch (err) {
      if (!(err instanceof PrefixExpansionError)) throw err;
      toError(r, 'partitioning-failed', 'DynamicPartitioning.MetadataExtractionFailed', err.message);
    }
  }
  return { objects: [...groups.values()], delivered, errorOutput };
}
