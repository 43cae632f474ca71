/**
 * opensearch route: documents indexed with `_bulk`, as Firehose's OpenSearch destination does —
 * buffered by size or age (its buffering hints), into an index rotated by the record's time, with
 * a document id from the Kafka key (or a field) so that a record delivered again overwrites itself.
 *
 * Each bulk response is read per document: indexed documents are delivered, documents answered 429
 * or 5xx stay at the head of their id in the key-ordered retry queue (a later version of the same
 * document never overtakes an earlier one that failed), and documents refused for good go to the
 * dead-letter topic with the reason. A record is finished only then, so offsets commit only past
 * documents indexed or dead-lettered.
 */
import type { BackoffPolicy, Logger } from '@tideway/runtime';
import { BatchSender } from '../batch-sender';
import { DLQ_REASONS } from '../errors';
import type { Unit, UnitOutcome } from '../key-ordered-retry-queue';
import type { BridgeMetrics } from '../metrics';
import type { OpenSearchDestination } from '../routes';
import type { BridgeRecord, RecordOutcomes, Sink } from '../sink';
import { bulkBody, bulkBytes, bulkOutcomes, documentId, type BulkDocument } from './bulk';
import type { OpenSearchHttp } from './http-client';
import { rotatedIndexName } from './index-name';

export interface OpenSearchSinkOptions {
  route: string;
  destination: OpenSearchDestination;
  http: OpenSearchHttp;
  logger: Logger;
  metrics: BridgeMetrics;
  outcomes: RecordOutcomes;
  backoff: BackoffPolicy;
  maxInFlight: number;
  maxBufferedBytes: number;
  now?: () => number;
}

/** Documents per `_bulk` request. */
const MAX_DOCUMENTS_PER_REQUEST = 10_000;
/** Bytes per `_bulk` request: the buffer size, within what OpenSearch accepts (http.max_content_length is 100 MB). */
export function maxRequestBytes(bufferSizeBytes: number): number {
  return Math.min(Math.max(bufferSizeBytes, 1024 * 1024), 50 * 1024 * 1024);
}

interface Queued {
  record: BridgeRecord;
  doc: BulkDocument;
}

export class OpenSearchSink implements Sink {
  readonly kind = 'opensearch' as const;
  readonly maxBufferedBytes: number;
  private readonly sender: BatchSender;
  private readonly docs = new WeakMap<BridgeRecord, BulkDocument>();
  private staged: Queued[] = [];
  private stagedBytes = 0;
  private flushTimer?: NodeJS.Timeout;
  private seq = 0;
  private readonly requestBytes: number;
  private readonly now: () => number;

  constructor(private readonly o: OpenSearchSinkOptions) {
    const hints = o.destination.bufferingHints;
    this.maxBufferedBytes = o.maxBufferedBytes + hints.sizeBytes;
    this.requestBytes = maxRequestBytes(hints.sizeBytes);
    this.now = o.now ?? Date.now;
    this.sender = new BatchSender({
      route: o.route,
      maxInFlight: o.maxInFlight,
      backoff: o.backoff,
      logger: o.logger,
      metrics: o.metrics,
      outcomes: o.outcomes,
      // One document per id per request: a later version waits for the earlier one's answer.
      limits: () => ({ maxUnits: MAX_DOCUMENTS_PER_REQUEST, maxBytes: this.requestBytes, unitMaxRecords: 1, unitMaxBytes: this.requestBytes }),
      send: (units) => this.bulk(units),
    });
  }

  /** Reachable, and the credentials are accepted (GET / answers 200). */
  async prepare(): Promise<void> {
    await this.o.http.json('GET', '/');
  }

  submit(records: readonly BridgeRecord[]): void {
    const { destination: d, outcomes } = this.o;
    for (const r of records) {
      const id = documentId(d.documentId, r.message.key, r.data);
      const doc: BulkDocument = { index: rotatedIndexName(d.index, d.indexRotationPeriod, r.message.timestamp), id, source: r.data };
      const bytes = bulkBytes(doc);
      if (bytes > this.requestBytes) {
        outcomes.deadLetter(r, DLQ_REASONS.tooLarge, `document is ${bytes} bytes in a bulk request; a request carries at most ${this.requestBytes}`);
        continue;
      }
      this.staged.push({ record: r, doc });
      this.stagedBytes += bytes;
    }
    if (this.stagedBytes >= d.bufferingHints.sizeBytes || d.bufferingHints.intervalMs === 0) this.flush();
    else if (this.staged.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), d.bufferingHints.intervalMs);
    }
  }

  /** Hands the buffered documents to the sender. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const { record, doc } of this.staged) {
      this.docs.set(record, doc);
      // Queued under the document's id: per-id order through retries. Without an id, no order to keep.
      const key = doc.id !== undefined ? `i:${doc.index}/${doc.id}` : `n:${this.seq++}`;
      this.sender.queue.enqueue({ key, bytes: bulkBytes(doc), payload: record, enqueuedAt: record.readAt });
    }
    this.staged = [];
    this.stagedBytes = 0;
    this.sender.pump();
  }

  submitFailed(records: readonly BridgeRecord[]): void {
    for (const r of records) this.o.outcomes.deadLetter(r, DLQ_REASONS.transformFailed, r.transformError ?? 'transform failed');
  }

  private async bulk(units: readonly Unit<BridgeRecord>[]): Promise<UnitOutcome[]> {
    const { metrics, route } = this.o;
    const docs = units.map((u) => this.docs.get(u.entries[0].payload)!);
    const started = this.now();
    let answers;
    try {
      const response = await this.o.http.json('POST', '/_bulk', bulkBody(docs), 'application/x-ndjson');
      answers = bulkOutcomes(docs.length, response);
    } catch (err) {
      metrics.openSearchBulkRequests.inc({ route, outcome: 'failed' });
      throw err;
    } finally {
      metrics.openSearchBulkLatency.observe({ route }, (this.now() - started) / 1000);
    }
    let failed = 0;
    const outcomes = answers.map((a, i): UnitOutcome => {
      if (a.kind === 'indexed') {
        this.docs.delete(units[i].entries[0].payload);
        return { ok: true };
      }
      failed++;
      if (a.kind === 'retry') return { ok: false, code: a.code };
      this.docs.delete(units[i].entries[0].payload);
      this.o.logger.warn({ route, index: docs[i].index, status: a.status, error: a.error }, 'document rejected; to the dead-letter topic');
      return { ok: true, rejected: { reason: DLQ_REASONS.documentRejected, error: a.error } };
    });
    const count = (kind: string): number => answers.filter((a) => a.kind === kind).length;
    metrics.openSearchDocuments.inc({ route, result: 'indexed' }, count('indexed'));
    metrics.openSearchDocuments.inc({ route, result: 'retried' }, count('retry'));
    metrics.openSearchDocuments.inc({ route, result: 'rejected' }, count('rejected'));
    metrics.openSearchBulkRequests.inc({ route, outcome: failed === 0 ? 'ok' : 'partial' });
    return outcomes;
  }

  bufferedBytes(): number {
    return this.stagedBytes + this.sender.bytes;
  }

  async drain(signal: AbortSignal): Promise<void> {
    this.flush();
    await this.sender.drain(signal);
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.sender.close();
    this.o.http.close();
  }
}
