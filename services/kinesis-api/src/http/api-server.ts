/**
 * The Kinesis API — and the Firehose API, told apart by the `X-Amz-Target` prefix — over HTTP(S):
 * `POST /` with `X-Amz-Target`, a bounded body, the signature check, then the operation's handler; every failure answered in the AWS error shape, in the request's
 * wire format. HTTP/1.1 and HTTP/2 on the same port — the AWS SDK for JavaScript speaks HTTP/2 to
 * Kinesis, also to a plain http:// endpoint (h2c with prior knowledge), the others HTTP/1.1; with
 * TLS the protocol is chosen by ALPN. Stopping closes the listener and idle connections, and waits for the requests in
 * progress.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { errorMessage, type Logger } from '@tideway/runtime';
import { parseAuthorization, verifySigV4 } from '../auth/sigv4';
import type { Credentials } from '../auth/credentials';
import { asFirehoseError, isKinesisApiError, KinesisApiError } from '../errors';
import type { KinesisApiMetrics } from '../metrics';
import { HANDLERS } from '../operations';
import { FIREHOSE_HANDLERS } from '../operations/firehose';
import { Http1Connections } from './http1-connections';
import type { OperationContext } from '../operations/context';
import { firehoseOperationOf, readFirehoseRequest, type FirehoseOperation } from '../protocol/firehose-operations';
import { operationOf, readRequest, type Operation } from '../protocol/operations';
import { apiOf, type Api } from '../protocol/targets';
import { ChunkPool, type BodySink } from '../protocol/json-writer';
import { decodeBody, encodeAnswer, encodeError, wireFormatOf, type WireFormat, type WireResponse } from '../protocol/wire';

/** A PutRecords of 5 MiB is about 7 MiB as base64 JSON; anything much larger is not a Kinesis request. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_REGION = 'us-east-1';
/**
 * Answer chunks (256 KiB each) kept for reuse: an answer on its way holds a few while its connection
 * drains, so this covers several GetRecords and PutRecords answers at once without more churn.
 */
const POOLED_CHUNKS = 32;

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Undefined: no authentication. */
  readonly credentials?: Credentials;
  readonly tls?: { cert: Buffer; key: Buffer };
  readonly logger: Logger;
  readonly metrics: KinesisApiMetrics;
  /** The handlers' context for a request signed for `region`. */
  readonly context: (region: string) => OperationContext;
  readonly nowMs: () => number;
}

class BodyTooLarge extends Error {}

/** The `operation` label: a Kinesis operation, `Firehose.<Operation>` (Firehose also has a PutRecord), or `unknown`. */
type OperationLabel = Operation | `Firehose.${FirehoseOperation}` | 'unknown';

/** The service a request to `api` is signed for. */
const SIGNING_SERVICE: Record<Api, string> = { kinesis: 'kinesis', firehose: 'firehose' };

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;
type Handler = (ctx: OperationContext, input: unknown) => Promise<Record<string, unknown>>;

/** What an HTTP/2 connection starts with (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/** A response as a body sink: writes in order, and waits for 'drain' (or 'close' when the client went away). */
function responseSink(res: Response): BodySink {
  const out = res as ServerResponse;
  return {
    write: (part, sent) => out.write(part, (err) => sent(!err)),
    drained: () =>
      new Promise<boolean>((resolve) => {
        if (out.destroyed || out.writableEnded) return resolve(false);
        const done = (open: boolean) => {
          out.off('drain', onDrain);
          out.off('close', onClose);
          resolve(open);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        out.on('drain', onDrain);
        out.on('close', onClose);
      }),
  };
}

function readBody(req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class ApiServer {
  private listener?: NetServer;
  private readonly servers: Array<Server | NetServer> = [];
  private readonly sessions = new Set<Http2Session>();
  private readonly http1Connections = new Http1Connections();
  private readonly chunks = new ChunkPool(POOLED_CHUNKS);

  constructor(private readonly o: ApiServerOptions) {}

  async listen(): Promise<number> {
    const handler = (req: Request, res: Response) =>
      void this.handle(req, res).catch((err: unknown) => {
        this.o.logger.warn({ err: errorMessage(err) }, `answer not written: ${errorMessage(err)}`);
        res.destroy();
      });
    const trackSessions = (server: { on(event: 'session', l: (s: Http2Session) => void): unknown }) =>
      server.on('session', (session: Http2Session) => {
        this.sessions.add(session);
        session.once('close', () => this.sessions.delete(session));
      });
    let listener: NetServer;
    if (this.o.tls) {
      const secure = createSecureServer({ cert: this.o.tls.cert, key: this.o.tls.key, allowHTTP1: true }, handler);
      trackSessions(secure);
      listener = secure;
    } else {
      const http1 = createHttpServer(handler);
      // Clients keep connections open between calls; a dead client must not hold one for ever.
      http1.keepAliveTimeout = 65_000;
      http1.requestTimeout = 120_000;
      http1.on('request', (req: IncomingMessage, res: ServerResponse) => {
        if (!this.http1Connections.requestStarted(req.socket)) res.setHeader('Connection', 'close');
        res.once('close', () => this.http1Connections.requestEnded(req.socket));
      });
      const http2 = createHttp2Server(handler);
      trackSessions(http2);
      this.servers.push(http1, http2 as unknown as NetServer);
      // Plain connections: the first bytes tell an HTTP/2 preface from an HTTP/1.1 request line.
      listener = createNetServer((socket: Socket) => {
        socket.once('readable', () => {
          const head: Buffer | null = socket.read(HTTP2_PREFACE.length) ?? socket.read();
          if (head === null) return void socket.destroy();
          socket.unshift(head);
          const isHttp2 = head.length > 0 && head.equals(HTTP2_PREFACE.subarray(0, head.length));
          if (!isHttp2) this.http1Connections.add(socket);
          (isHttp2 ? http2 : http1).emit('connection', socket);
        });
      });
    }
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.o.port, this.o.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    return typeof address === 'object' && address ? address.port : this.o.port;
  }

  /** Stops accepting connections, lets the requests in progress finish, then closes the connections. */
  async close(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    this.http1Connections.stop();
    for (const server of this.servers) if ('closeIdleConnections' in server) (server as Server).closeIdleConnections();
    if ('closeIdleConnections' in listener) (listener as unknown as Server).closeIdleConnections();
    // A graceful close of an HTTP/2 session lets its open streams finish.
    for (const session of this.sessions) session.close();
    await Promise.all([closed, ...this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))]);
  }

  private async handle(req: Request, res: Response): Promise<void> {
    const format: WireFormat = wireFormatOf(req.headers['content-type']) ?? 'json';
    let operation: OperationLabel = 'unknown';
    const targetHeader = req.headers['x-amz-target'];
    const target = Array.isArray(targetHeader) ? targetHeader[0] : targetHeader;
    const api = apiOf(target);
    const started = process.hrtime.bigint();
    let answer: WireResponse;
    try {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        await readBody(req).catch(() => Buffer.alloc(0));
        throw new KinesisApiError('UnknownOperationException', `The API is served at POST /, not ${req.method} ${req.url}`);
      }
      if (wireFormatOf(req.headers['content-type']) === undefined) {
        await readBody(req).catch(() => Buffer.alloc(0));
        throw new KinesisApiError('SerializationException', `Unsupported Content-Type '${req.headers['content-type']}'`);
      }
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new KinesisApiError('InvalidArgumentException', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
        throw err;
      }
      const region = this.authenticate(req, body, api);
      let output: Record<string, unknown>;
      if (api === 'firehose') {
        const op = firehoseOperationOf(target);
        operation = `Firehose.${op}`;
        const input = readFirehoseRequest(op, format, decodeBody(format, body));
        output = await (FIREHOSE_HANDLERS[op] as Handler)(this.o.context(region), input);
      } else {
        const op = operationOf(target);
        operation = op;
        const input = readRequest(op, format, decodeBody(format, body));
        output = await (HANDLERS[op] as Handler)(this.o.context(region), input);
      }
      answer = await encodeAnswer(format, output);
      this.o.metrics.requests.inc({ operation, format, outcome: 'ok' });
    } catch (err) {
      answer = this.failure(format, operation, api === 'firehose' ? asFirehoseError(err) : err);
    }
    this.o.metrics.requestDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
    if (res.writableEnded || res.destroyed) return;
    // The HTTP/2 compatibility response takes the same calls.
    const out = res as ServerResponse;
    // A body that does not match its Content-Length fails the request instead of corrupting the connection.
    if ('strictContentLength' in out) out.strictContentLength = true;
    const length = answer.length === undefined ? {} : { 'content-length': String(answer.length) };
    out.writeHead(answer.status, { ...answer.headers, ...length, 'x-amzn-requestid': randomUUID() });
    // The body goes out as it is made, never whole: a GetRecords answer can be 13 MiB of text.
    if (await answer.writeBody(responseSink(res), this.chunks)) out.end();
  }

  /** The region the request was signed for; throws the AWS error of a request that is not signed right. */
  private authenticate(req: Request, body: Buffer, api: Api): string {
    if (!this.o.credentials) return DEFAULT_REGION;
    const [path, query = ''] = (req.url ?? '/').split('?', 2);
    try {
      verifySigV4(
        { method: req.method ?? 'POST', path, query, headers: req.headers, body },
        { credentials: this.o.credentials, nowMs: this.o.nowMs(), services: [SIGNING_SERVICE[api]] },
      );
    } catch (err) {
      if (isKinesisApiError(err)) this.o.metrics.authFailures.inc({ error: err.name });
      throw err;
    }
    const header = req.headers.authorization;
    return parseAuthorization(Array.isArray(header) ? header[0] : header).region;
  }

  private failure(format: WireFormat, operation: OperationLabel, err: unknown): WireResponse {
    // Kafka's transient failures arrive as ServiceUnavailable (stream-store.ts); anything else
    // that is not a Kinesis answer is a fault, answered as InternalFailure with its details logged only.
    if (!isKinesisApiError(err)) this.o.logger.warn({ err: errorMessage(err), operation }, `request failed: ${errorMessage(err)}`);
    this.o.metrics.requests.inc({ operation, format, outcome: isKinesisApiError(err) ? err.name : 'InternalFailure' });
    return encodeError(format, err);
  }
}
