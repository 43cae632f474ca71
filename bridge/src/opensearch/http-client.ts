/**
 * HTTP(S) to an OpenSearch endpoint with node:http/https (a CA file for TLS, keep-alive, a
 * per-request timeout). Errors keep the shape the bridge's retry decisions read: a network
 * failure has its socket `code`, a timeout is a TimeoutError, an HTTP status is `status`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface OpenSearchHttpOptions {
  /** Base URL, e.g. https://search.example.com:9200 (a path prefix is kept). */
  endpoint: string;
  authorization?: string;
  /** PEM CA certificates to trust (default: the system store). */
  ca?: string;
  timeoutMs: number;
  maxSockets: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP status the caller treats as a failure of the whole call. */
export class OpenSearchHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = status === 429 ? 'HTTP429' : status >= 500 ? 'HTTP5xx' : status === 401 || status === 403 ? 'AccessDenied' : `HTTP${status}`;
  }
}

/** The request headers (pure: what the unit tests check). */
export function requestHeaders(authorization: string | undefined, contentType: string | undefined, length: number): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', 'content-length': String(length) };
  if (contentType) h['content-type'] = contentType;
  if (authorization) h.authorization = authorization;
  return h;
}

export class OpenSearchHttp {
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly o: OpenSearchHttpOptions) {
    this.base = new URL(o.endpoint.endsWith('/') ? o.endpoint : `${o.endpoint}/`);
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets, ca: o.ca })
        : new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets });
  }

  request(method: string, path: string, body?: Buffer, contentType?: string): Promise<HttpAnswer> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        { method, agent: this.agent, headers: requestHeaders(this.o.authorization, contentType, body?.length ?? 0), timeout: this.o.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`${method} ${url.pathname} timed out after ${this.o.timeoutMs} ms`), { name: 'TimeoutError' })),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A request whose non-2xx answer is thrown as OpenSearchHttpError; the body parsed as JSON. */
  async json(method: string, path: string, body?: Buffer, contentType = 'application/json'): Promise<unknown> {
    const res = await this.request(method, path, body, body ? contentType : undefined);
    if (res.status < 200 || res.status >= 300) {
      throw new OpenSearchHttpError(res.status, `${method} ${path}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    }
    return JSON.parse(res.body.toString('utf8')) as unknown;
  }

  close(): void {
    this.agent.destroy();
  }
}
