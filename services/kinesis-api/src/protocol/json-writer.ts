/**
 * A JSON 1.1 answer written straight into Buffers: byte for byte what JSON.stringify gives for the
 * answer with its blobs as base64 and its timestamps as epoch seconds, without first building the
 * whole text as a string. A GetRecords answer holds up to 10 MiB of data: each record's base64 is
 * copied into the current chunk as it is made, and the chunks are written out as they are, so
 * neither a copy of the records as text nor one long string of the whole answer is ever held. Pure.
 */

const CHUNK_BYTES = 256 * 1024;
const PENDING_CHARS = 4096;

/**
 * Text appended to a list of Buffers. Short ASCII tokens gather in a string first and reach a Buffer
 * in one copy with the next long text: a native write per token costs more than the token.
 */
class ChunkedBuffer {
  private readonly full: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private at = 0;
  private fullBytes = 0;
  private pending = '';

  /** A short token of ASCII characters. */
  token(text: string): void {
    this.pending += text;
    if (this.pending.length >= PENDING_CHARS) this.flush();
  }

  /** Text of one-byte characters only (ASCII: base64, escaped JSON without non-ASCII). */
  latin1(text: string): void {
    this.flush();
    this.write(text, text.length, 'latin1');
  }

  utf8(text: string): void {
    this.flush();
    this.write(text, text.length * 3, 'utf8');
  }

  private flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.write(text, text.length, 'latin1');
  }

  private write(text: string, most: number, encoding: 'latin1' | 'utf8'): void {
    if (this.at + most > this.chunk.length) this.next(most);
    this.at += this.chunk.write(text, this.at, encoding);
  }

  private next(atLeast: number): void {
    if (this.at > 0) {
      this.full.push(this.chunk.subarray(0, this.at));
      this.fullBytes += this.at;
    }
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.at = 0;
  }

  /** The text as written, in pieces. */
  parts(): Buffer[] {
    this.flush();
    const out = this.at > 0 ? [...this.full, this.chunk.subarray(0, this.at)] : [...this.full];
    return out;
  }
}

// ASCII without `"` and `\` and control characters: JSON.stringify leaves such text as it is.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function writeString(out: ChunkedBuffer, text: string): void {
  if (text.length < 256 && PLAIN_ASCII.test(text)) {
    out.token('"' + text + '"');
    return;
  }
  const json = JSON.stringify(text);
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0x7f) return out.utf8(json);
  if (json.length < 256) out.token(json);
  else out.latin1(json);
}

function writeValue(out: ChunkedBuffer, value: unknown): void {
  if (value === null || value === undefined) return out.token('null');
  switch (typeof value) {
    case 'string':
      return writeString(out, value);
    case 'number':
    case 'boolean':
      return out.token(JSON.stringify(value));
    case 'object':
      break;
    default:
      // Functions and symbols are null in an array, as with JSON.stringify; bigints throw there too.
      return out.token(JSON.stringify(value) ?? 'null');
  }
  if (value instanceof Uint8Array) {
    out.token('"');
    out.latin1(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
    return out.token('"');
  }
  if (value instanceof Date) return out.token(JSON.stringify(value.getTime() / 1000));
  if (Array.isArray(value)) {
    out.token('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.token(',');
      writeValue(out, value[i]);
    }
    return out.token(']');
  }
  out.token('{');
  let first = true;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (!first) out.token(',');
    first = false;
    writeString(out, key);
    out.token(':');
    writeValue(out, v);
  }
  out.token('}');
}

/**
 * The JSON text of an answer (plain objects, arrays, strings, numbers, Buffers as base64, Dates as
 * epoch seconds) in pieces of about 256 KiB, to be written in order: a large answer is never copied
 * into one Buffer.
 */
export function encodeJsonParts(value: unknown): Buffer[] {
  const out = new ChunkedBuffer();
  writeValue(out, value);
  return out.parts();
}

/** Pieces of a body as one Buffer (a single piece as it is, without a copy). */
export function joinParts(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The JSON text of an answer in one Buffer. */
export function encodeJson(value: unknown): Buffer {
  return joinParts(encodeJsonParts(value));
}
