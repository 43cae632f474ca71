/**
 * The two wire formats the AWS SDKs use for Kinesis, over `POST /` with
 * `X-Amz-Target: Kinesis_20131202.<Operation>` (Firehose's `Firehose_20150804.<Operation>` is JSON 1.1):
 * - JSON 1.1 (boto3, aws CLI, the JavaScript SDK): blobs are base64 strings, timestamps epoch
 *   seconds as numbers (with a fraction);
 * - CBOR 1.1 (the Java SDK v2 default): blobs are byte strings, timestamps CBOR tag 1 holding epoch
 *   milliseconds (the Java SDK's AwsCborProtocolFactory writes and reads milliseconds there, not
 *   the RFC's seconds).
 * Decoded bodies keep blobs as they came (a base64 string or bytes) and turn timestamps into
 * numbers or Dates; `members.ts` reads them by the operation's shape. Encoding takes plain objects
 * holding Buffers and Dates. Pure.
 */
import type * as CborX from 'cbor-x' with { 'resolution-mode': 'import' };
import { isAscii } from 'node:buffer';
import { collectStreamed, encodeJson, encodeJsonParts, hasStreamed, joinParts, jsonLength, streamJson, type BodySink, type ChunkPool } from './json-writer';
import { KinesisApiError, KINESIS_ERRORS, isKinesisApiError, type KinesisErrorName } from '../errors';

// cbor-x ships CommonJS for Node but declares its types as an ES module only.
const { Decoder, Encoder, Tag } = require('cbor-x') as typeof CborX;

export type WireFormat = 'json' | 'cbor';

export const CONTENT_TYPES: Record<WireFormat, string> = { json: 'application/x-amz-json-1.1', cbor: 'application/x-amz-cbor-1.1' };

export const TARGET_PREFIX = 'Kinesis_20131202.';
/** The Firehose API, served on the same port (JSON 1.1). */
export const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804.';

/** The format of a request's Content-Type; undefined for one the API does not speak. */
export function wireFormatOf(contentType: string | undefined): WireFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === '' || type === 'application/json' || /^application\/x-amz-json-1\.[01]$/.test(type)) return 'json';
  if (type === 'application/cbor' || /^application\/x-amz-cbor-1\.[01]$/.test(type)) return 'cbor';
  return undefined;
}

// Plain CBOR both ways (no cbor-x records or shared structures), maps with their shortest length
// header, and 64-bit integers read as numbers: the Java SDK writes every long, a timestamp's too, as
// one (cbor-x's decoder honours int64AsNumber; its typings leave it out).
const cborDecoder = new Decoder({ mapsAsObjects: true, useRecords: false, int64AsNumber: true } as CborX.Options);
const cborEncoder = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true });

function serializationError(message: string): KinesisApiError {
  return new KinesisApiError('SerializationException', message);
}

/** The text of a JSON body: ASCII (as SDKs send it: base64 data, escaped keys) is copied as it is, without UTF-8 decoding. */
function jsonText(body: Uint8Array): string {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** A request body as a plain object; SerializationException when it is not one. An empty body is `{}`. */
export function decodeBody(format: WireFormat, body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(jsonText(body)) : cborDecoder.decode(body);
  } catch (err) {
    throw serializationError(`The request body is not valid ${format === 'json' ? 'JSON' : 'CBOR'}: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw serializationError(`The request body must be a ${format === 'json' ? 'JSON object' : 'CBOR map'}`);
  }
  return value as Record<string, unknown>;
}

/** A timestamp member as decoded: epoch seconds (JSON) or epoch milliseconds (CBOR), into a Date; undefined when it is none. */
export function wireTimestamp(format: WireFormat, value: unknown): Date | undefined {
  let ms: number | undefined;
  if (format === 'json') {
    if (typeof value === 'number') ms = value * 1000;
  } else if (value instanceof Date) {
    // cbor-x reads tag 1 as seconds and multiplies by 1000; the Java SDK put milliseconds there.
    ms = value.getTime() / 1000;
  } else if (value instanceof Tag && value.tag === 1 && typeof value.value === 'number') {
    ms = value.value;
  } else if (typeof value === 'number') {
    ms = value;
  }
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms);
}

/** A blob member as decoded: base64 text (JSON) or bytes (CBOR); undefined when it is neither. */
export function wireBlob(format: WireFormat, value: unknown): Buffer | undefined {
  if (format === 'cbor') return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : undefined;
  if (typeof value !== 'string' || value.length % 4 !== 0) return undefined;
  return strictBase64(value);
}

/**
 * Standard base64 with its padding, decoded; undefined for anything else. Node's decoder skips what
 * is not base64 and reads the URL-safe alphabet and a character's low byte too, so the text is
 * checked by the decoded length instead of a regular expression (much slower on a PutRecords of 500).
 */
function strictBase64(text: string): Buffer | undefined {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (text.length / 4) * 3 - padding) return undefined;
  if (text.includes('-') || text.includes('_') || Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  return bytes;
}

/** Dates and large integers of a response in CBOR's representation (JSON is written by json-writer.ts). */
function toWire(format: 'cbor', value: unknown): unknown {
  if (value instanceof Date) return new Tag(BigInt(value.getTime()), 1);
  // cbor-x writes an integer beyond 32 bits as a float, which the Java SDK cannot read as a Long.
  if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) > 0xffffffff) return BigInt(value);
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => toWire(format, v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(format, v);
    return out;
  }
  return value;
}

/** A body in pieces, to be written in order. */
export function encodeBodyParts(format: WireFormat, value: Record<string, unknown>): Buffer[] {
  return format === 'json' ? encodeJsonParts(value) : [Buffer.from(cborEncoder.encode(toWire(format, value)))];
}

export function encodeBody(format: WireFormat, value: Record<string, unknown>): Buffer {
  return joinParts(encodeBodyParts(format, value));
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /**
   * The body's length in bytes when it is known before any of it is written (Content-Length);
   * undefined for an answer written as its records arrive (chunked on HTTP/1.1).
   */
  readonly length?: number;
  /**
   * Writes the body to `sink` in pieces (a GetRecords answer of 10 MiB is neither copied into one
   * Buffer nor held whole); a JSON body's pieces come from `pool` and go back to it once sent.
   * False when the sink went away first.
   */
  writeBody(sink: BodySink, pool: ChunkPool): Promise<boolean>;
}

/** An answer made whole before it is written. */
export interface HeldResponse extends WireResponse {
  readonly length: number;
  /** The whole body, made when first asked for. */
  readonly body: Buffer;
}

function wireResponse(status: number, headers: Record<string, string>, format: WireFormat, value: Record<string, unknown>): HeldResponse {
  if (format === 'json') {
    let whole: Buffer | undefined;
    return {
      status,
      headers,
      length: jsonLength(value),
      writeBody: (sink, pool) => streamJson(value, sink, pool),
      get body() {
        whole ??= encodeJson(value);
        return whole;
      },
    };
  }
  const parts = encodeBodyParts(format, value);
  let length = 0;
  for (const part of parts) length += part.length;
  return {
    status,
    headers,
    length,
    writeBody: (sink) => {
      for (const part of parts) sink.write(part, () => undefined);
      return Promise.resolve(true);
    },
    get body() {
      return joinParts(parts);
    },
  };
}

export function encodeResponse(format: WireFormat, value: Record<string, unknown>): HeldResponse {
  return wireResponse(200, { 'content-type': CONTENT_TYPES[format] }, format, value);
}

/**
 * An operation's answer in `format`. One with StreamedList members (json-writer.ts) is written as
 * JSON as its items arrive, its length known only at its end; CBOR (the Java SDK) has no such
 * writer, so its lists are read to the end first and the answer is encoded whole. Any other answer
 * has its length before its body is written.
 */
export async function encodeAnswer(format: WireFormat, value: Record<string, unknown>): Promise<WireResponse> {
  if (!hasStreamed(value)) return encodeResponse(format, value);
  if (format !== 'json') return encodeResponse(format, await collectStreamed(value));
  return { status: 200, headers: { 'content-type': CONTENT_TYPES.json }, writeBody: (sink, pool) => streamJson(value, sink, pool) };
}

/**
 * The AWS error shape: `__type` and `message` in the body (what boto3 and the Java SDK read) and the
 * `x-amzn-ErrorType` header (what the JavaScript SDK reads first). An error that is not a Kinesis
 * error is an InternalFailure whose text stays in the service's log, not in the answer.
 */
export function encodeError(format: WireFormat, err: unknown): HeldResponse {
  const name: KinesisErrorName = isKinesisApiError(err) ? err.name : 'InternalFailure';
  const message = isKinesisApiError(err) ? err.message : 'The server encountered an internal error while processing the request.';
  return wireResponse(KINESIS_ERRORS[name], { 'content-type': CONTENT_TYPES[format], 'x-amzn-errortype': name }, format, { __type: name, message });
}
