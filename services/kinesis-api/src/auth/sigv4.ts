/**
 * AWS Signature Version 4 verification of a request (Authorization header form): the canonical
 * request is rebuilt from the method, path, query, the signed headers and the hash of the body as
 * received, signed with the secret of the access key id, and compared in constant time.
 * Failures answer what AWS answers: MissingAuthenticationTokenException (no header),
 * IncompleteSignatureException (a malformed header), UnrecognizedClientException (an unknown key),
 * InvalidSignatureException (a wrong signature, or a request dated more than 15 minutes from now).
 * Pure: the clock is given.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KinesisApiError } from '../errors';
import type { Credentials } from './credentials';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export interface SignedRequest {
  readonly method: string;
  /** The path as received, still percent-encoded, without the query. */
  readonly path: string;
  /** The query string as received, without `?`. */
  readonly query: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Uint8Array;
}

export interface Authorization {
  readonly accessKeyId: string;
  /** YYYYMMDD */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const incomplete = (message: string) => new KinesisApiError('IncompleteSignatureException', message);

/** The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export function parseAuthorization(value: string | undefined): Authorization {
  if (value === undefined || value.trim() === '') throw new KinesisApiError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const text = value.trim();
  if (!text.startsWith(`${ALGORITHM} `)) throw incomplete(`Authorization header requires the ${ALGORITHM} algorithm, got '${text.split(' ')[0]}'.`);
  const params = new Map<string, string>();
  for (const part of text.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params.get(p));
  if (missing.length > 0)
    throw incomplete(missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ') + ` Authorization=${text.split(' ')[0]}`);
  const credential = params.get('Credential')!.split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request' || !/^\d{8}$/.test(credential[1]) || credential.some((c) => c === '')) {
    throw incomplete(`Credential should be scoped to a valid region, service and date: 'ACCESS_KEY_ID/YYYYMMDD/region/service/aws4_request'.`);
  }
  const signature = params.get('Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature must be 64 lowercase hexadecimal characters.');
  const signedHeaders = params.get('SignedHeaders')!.split(';');
  if (signedHeaders.some((h) => h === '' || h !== h.toLowerCase())) throw incomplete('SignedHeaders must be a ;-separated list of lowercase header names.');
  const [accessKeyId, date, region, service] = credential;
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** RFC 3986 percent-encoding, as SigV4 wants it (everything but A-Z a-z 0-9 - _ . ~). */
function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The path with `.`/`..` and empty segments resolved, each segment encoded once more (every service but S3 signs it so). */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escape(normalized).replace(/%2F/g, '/');
}

export function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      return [escape(safeDecode(k)), escape(safeDecode(v))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(value: string | readonly string[] | undefined): string {
  const joined = typeof value === 'string' ? value : (value ?? []).join(',');
  return joined.trim().replace(/\s+/g, ' ');
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  return [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    canonicalQuery(req.query),
    ...signedHeaders.map((h) => `${h}:${headerValue(req.headers[h])}`),
    '',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

/** `20150830T123600Z` → epoch ms; undefined when malformed. */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return new Date(ms).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`) ? ms : undefined;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The request's signing time, from X-Amz-Date (or Date), as `YYYYMMDDTHHMMSSZ` and epoch ms. */
function requestTime(req: SignedRequest): { amzDate: string; ms: number } {
  const amz = headerValue(req.headers['x-amz-date']);
  if (amz !== '') {
    const ms = parseAmzDate(amz);
    if (ms === undefined) throw incomplete(`X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', got '${amz}'.`);
    return { amzDate: amz, ms };
  }
  const date = headerValue(req.headers['date']);
  const ms = date === '' ? NaN : Date.parse(date);
  if (Number.isNaN(ms)) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  return { amzDate: formatAmzDate(ms), ms };
}

export interface VerifyOptions {
  readonly credentials: Credentials;
  readonly nowMs: number;
  /** Service names a credential scope may name (`kinesis`). */
  readonly services: readonly string[];
}

/** The access key id of a correctly signed request; throws the error AWS would answer otherwise. */
export function verifySigV4(req: SignedRequest, options: VerifyOptions): string {
  const auth = parseAuthorization(headerValue(req.headers['authorization']) || undefined);
  // Over HTTP/2 the host travels as the :authority pseudo-header, and the AWS SDKs sign that instead.
  if (!auth.signedHeaders.includes('host') && !auth.signedHeaders.includes(':authority')) {
    throw incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const secret = options.credentials.get(auth.accessKeyId);
  if (secret === undefined) throw new KinesisApiError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const time = requestTime(req);
  const invalid = (message: string) => new KinesisApiError('InvalidSignatureException', message);
  if (!options.services.includes(auth.service)) throw invalid(`Credential should be scoped to correct service: '${options.services[0]}'.`);
  if (auth.date !== time.amzDate.slice(0, 8)) {
    throw invalid(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${time.amzDate.slice(0, 8)}'.`);
  }
  if (time.ms < options.nowMs - MAX_CLOCK_SKEW_MS) {
    throw invalid(
      `Signature expired: ${time.amzDate} is now earlier than ${formatAmzDate(options.nowMs - MAX_CLOCK_SKEW_MS)} (${formatAmzDate(options.nowMs)} - 15 min.)`,
    );
  }
  if (time.ms > options.nowMs + MAX_CLOCK_SKEW_MS) {
    throw invalid(
      `Signature not yet current: ${time.amzDate} is still later than ${formatAmzDate(options.nowMs + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(options.nowMs)} + 15 min.)`,
    );
  }
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const canonical = canonicalRequest(req, auth.signedHeaders, sha256Hex(req.body));
  const expected = createHmac('sha256', signingKey(secret, auth.date, auth.region, auth.service))
    .update(stringToSign(time.amzDate, scope, canonical), 'utf8')
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, 'hex'))) {
    throw invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return auth.accessKeyId;
}
