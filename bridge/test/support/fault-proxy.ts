/**
 * A fault-injecting HTTP proxy on 127.0.0.1 between the AWS SDK and an emulator: the one test
 * double these tests use, for faults the emulators cannot produce on demand.
 *
 * - PutRecords / PutRecordBatch: a share of records fails with ProvisionedThroughputExceeded-
 *   Exception (Kinesis) or ServiceUnavailableException (Firehose) — those records are NOT
 *   forwarded, exactly as the real service does not store a failed record — the rest is
 *   forwarded and the answers merged in request order, with FailedRecordCount / FailedPutCount.
 * - every faultable call may be delayed, so that several requests are in flight at once;
 * - a share of whole calls fails with 400 ThrottlingException or 500 InternalFailure without
 *   being forwarded; for other requests (S3 PUTs) with 503 SlowDown or 500.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRates {
  /** Share of records failed inside a PutRecords / PutRecordBatch call. */
  recordFailure: number;
  /** Share of calls answered with a throttling error. */
  throttle: number;
  /** Share of calls answered with a 500. */
  serverError: number;
  /** Every faultable request waits this long before it is answered or forwarded (a slow destination). */
  delayMs?: number;
  /** Only requests whose X-Amz-Target (or method) matches are faulted. */
  applyTo?: (target: string, method: string) => boolean;
}

export interface FaultStats {
  calls: number;
  /** Records of PutRecords / PutRecordBatch calls passed on to the emulator. */
  recordsForwarded: number;
  recordsFailed: number;
  throttled: number;
  serverErrors: number;
}

export class FaultProxy {
  readonly stats: FaultStats = { calls: 0, recordsForwarded: 0, recordsFailed: 0, throttled: 0, serverErrors: 0 };
  private server?: Server;
  port = 0;

  constructor(
    private readonly target: string,
    public rates: FaultRates,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const target = String(req.headers['x-amz-target'] ?? '');
    const faultable = this.rates.applyTo ? this.rates.applyTo(target, req.method ?? '') : true;
    if (!faultable) return this.forward(req, body, res);
    this.stats.calls++;
    if (this.rates.delayMs) await new Promise((r) => setTimeout(r, this.rates.delayMs));
    const roll = Math.random();
    if (roll < this.rates.throttle) {
      this.stats.throttled++;
      if (target) return json(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded (fault proxy)' });
      return xml(res, 503, 'SlowDown', 'Please reduce your request rate (fault proxy)');
    }
    if (roll < this.rates.throttle + this.rates.serverError) {
      this.stats.serverErrors++;
      if (target) return json(res, 500, { __type: 'InternalFailure', message: 'fault proxy' });
      return xml(res, 500, 'InternalError', 'fault proxy');
    }
    const kinesis = target.endsWith('.PutRecords');
    const firehose = target.endsWith('.PutRecordBatch');
    if (!(kinesis || firehose)) return this.forward(req, body, res);

    const request = JSON.parse(body.toString('utf8')) as { Records: unknown[] };
    const failIdx = new Set<number>();
    request.Records.forEach((_r, i) => {
      if (Math.random() < this.rates.recordFailure) failIdx.add(i);
    });
    const kept = request.Records.filter((_r, i) => !failIdx.has(i));
    this.stats.recordsForwarded += kept.length;
    let forwarded: Array<Record<string, unknown>> = [];
    if (kept.length > 0) {
      const upstream = await this.forwardRaw(req, Buffer.from(JSON.stringify({ ...request, Records: kept })));
      if (upstream.status !== 200) return send(res, upstream.status, upstream.headers, upstream.body);
      const parsed = JSON.parse(upstream.body.toString('utf8')) as Record<string, unknown>;
      forwarded = (kinesis ? parsed.Records : parsed.RequestResponses) as Array<Record<string, unknown>>;
    }
    this.stats.recordsFailed += failIdx.size;
    const merged: Array<Record<string, unknown>> = [];
    let next = 0;
    let failed = 0;
    request.Records.forEach((_r, i) => {
      if (failIdx.has(i)) {
        failed++;
        merged.push(
          kinesis
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (fault proxy)' }
            : { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down (fault proxy)' },
        );
      } else {
        const r = forwarded[next++];
        if (r.ErrorCode) failed++;
        merged.push(r);
      }
    });
    return json(res, 200, kinesis ? { FailedRecordCount: failed, Records: merged } : { FailedPutCount: failed, Encrypted: false, RequestResponses: merged });
  }

  private forwardRaw(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const url = new URL(req.url ?? '/', this.target);
    const headers = { ...req.headers, host: url.host, 'content-length': String(body.length) };
    return new Promise((resolve, reject) => {
      const up = request(url, { method: req.method, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) }));
        r.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  private async forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const up = await this.forwardRaw(req, body);
    send(res, up.status, up.headers, up.body);
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): void {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') h[k] = v;
  h['content-length'] = String(body.length);
  res.writeHead(status, h);
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, { 'content-type': 'application/x-amz-json-1.1' }, Buffer.from(JSON.stringify(value)));
}

function xml(res: ServerResponse, status: number, code: string, message: string): void {
  send(
    res,
    status,
    { 'content-type': 'application/xml' },
    Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`),
  );
}
