/** Building blocks for unit tests of the pipeline's modules: batches, workers and their context, without a broker. */
import { Registry } from 'prom-client';
import { ConsumerMetrics, createLogger, type IncomingMessage, type MessageBatch, type Producer } from '@tideway/runtime';
import { AlertingMetrics } from '../../src/metrics';
import { PartitionWorker } from '../../src/pipeline/partition-worker';
import type { PendingContext } from '../../src/pipeline/pending-transaction';

export const silentLogger = createLogger('alerting-test', 'silent');

export function message(topic: string, partition: number, offset: number, value: string | null, timestamp = 0): IncomingMessage {
  return { topic, partition, offset: String(offset), key: null, value: value === null ? null : Buffer.from(value), headers: {}, timestamp };
}

export function batchOf(messages: IncomingMessage[], highWatermark = '1000'): MessageBatch {
  return {
    topic: messages[0].topic,
    partition: messages[0].partition,
    messages,
    highWatermark,
    isStale: () => false,
    heartbeat: async () => undefined,
    resolveOffset: () => undefined,
    isRunning: () => true,
  };
}

export function pendingContext(): PendingContext {
  const registry = new Registry();
  return { alertsTopic: 'alerts', dlqSuffix: '.dlq', metrics: new AlertingMetrics(registry), consumerMetrics: new ConsumerMetrics(registry) };
}

/** A producer that only counts disconnects (and fails them when asked). */
export function idleProducer(failDisconnect = false): Producer & { disconnects: number } {
  const p = {
    disconnects: 0,
    connect: async () => undefined,
    disconnect: async () => {
      p.disconnects++;
      if (failDisconnect) throw new Error('already gone');
    },
    send: async () => [],
    transaction: async () => {
      throw new Error('no transactions here');
    },
    isConnected: () => true,
  };
  return p;
}

export function workerOn(topic: string, partition = 0, onFlushDue: (w: PartitionWorker) => void = () => undefined): PartitionWorker {
  return new PartitionWorker(topic, partition, idleProducer(), 1000, onFlushDue);
}

/** A promise with its resolve and reject. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
