/**
 * Dead-letter records: the original key, value and headers, plus headers that say why the
 * record was rejected and where it came from, so it can be inspected and replayed.
 */
import type { IncomingMessage, OutgoingMessage } from './types';

export const DLQ_HEADER = {
  /** Short machine-readable reason code from a bounded set (also the metric label). */
  reason: 'tideway.dlq.reason',
  /** Human-readable error message. */
  error: 'tideway.dlq.error',
  service: 'tideway.dlq.service',
  /** Epoch millis when the record was dead-lettered. */
  timestamp: 'tideway.dlq.timestamp',
  originTopic: 'tideway.origin.topic',
  originPartition: 'tideway.origin.partition',
  originOffset: 'tideway.origin.offset',
} as const;

/** `<topic>.dlq` unless the service is configured otherwise. */
export function deadLetterTopicFor(topic: string, suffix = '.dlq'): string {
  return `${topic}${suffix}`;
}

export interface DeadLetterInput {
  message: IncomingMessage;
  reason: string;
  error: string;
  service: string;
  /** Destination topic; default `<origin topic>.dlq`. */
  topic?: string;
  now?: number;
}

export function toDeadLetter(input: DeadLetterInput): OutgoingMessage {
  const { message } = input;
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = v;
  // Error text is bounded so one pathological message cannot make a huge header.
  headers[DLQ_HEADER.reason] = input.reason;
  headers[DLQ_HEADER.error] = input.error.slice(0, 2000);
  headers[DLQ_HEADER.service] = input.service;
  headers[DLQ_HEADER.timestamp] = String(input.now ?? Date.now());
  headers[DLQ_HEADER.originTopic] = message.topic;
  headers[DLQ_HEADER.originPartition] = String(message.partition);
  headers[DLQ_HEADER.originOffset] = message.offset;
  return {
    topic: input.topic ?? deadLetterTopicFor(message.topic),
    key: message.key,
    value: message.value,
    headers,
  };
}
