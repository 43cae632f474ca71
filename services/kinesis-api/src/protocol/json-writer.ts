/**
 * A JSON 1.1 answer written straight into Buffers: byte for byte what JSON.stringify gives for the
 * answer with its blobs as base64 and its timestamps as epoch seconds, without first building the
 * whole text as a string. A GetRecords answer holds up to 10 MiB of data: each record's base64 is
 * copied into the current chunk as it is made. `streamJson` hands the chunks out as they fill and
 * waits while the connection is behind, so an answer on its way holds a few chunks, not 13 MiB of
 * text; its length is counted first (`jsonLength`), for the Content-Length header.
 */

export const CHUNK_BYTES = 256 * 1024;
const PENDING_CHARS = 4096;

/** Where the text of an answer goes: chunks of Buffers, or a count of its bytes. */
interface JsonOutput {
  /** A short token of ASCII characters. */
  token(text: string): void;
  /** Text of one-byte characters only (ASCII: escaped JSON without non-ASCII). */
  latin1(text: string): void;
  utf8(text: string): void;
  /** Bytes written as base64. */
  base64(bytes: Uint8Array): void;
}

/** The byte count of the text, without making it: base64's length follows from the byte count. */
class JsonLength implements JsonOutput {
  bytes = 0;
  token(text: string): void {
    this.bytes += text.length;
  }
  latin1(text: string): void {
    this.bytes += text.length;
  }
  utf8(text: string): void {
    this.bytes += Buffer.byteLength(text, 'utf8');
  }
  base64(bytes: Uint8Array): void {
    this.bytes += 4 * Math.ceil(bytes.byteLength / 3);
  }
}

/**
 * Chunks an answer is written into, kept for reuse once written out: a GetRecords answer after
 * another no longer leaves 13 MiB of Buffers for the garbage collector each time. Only whole chunks
 * of CHUNK_BYTES return, and only a chunk nothing refers to any more may be given back.
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Chunks this pool has made (not reused) so far. */
  made = 0;

  /** @param keep chunks held for reuse at most (the rest are left to the garbage collector) */
  constructor(private readonly keep: number) {}

  take(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    this.made++;
    return Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** A chunk (or the written part of one) that was written out and is not referred to any more. */
  give(part: Buffer): void {
    if (part.byteOffset !== 0 || part.buffer.byteLength !== CHUNK_BYTES || this.free.length >= this.keep) return;
    this.free.push(Buffer.from(part.buffer, 0, CHUNK_BYTES));
  }

  /** Chunks held for reuse now. */
  get size(): number {
    return this.free.length;
  }
}

/**
 * Text appended to a list of Buffers. Short ASCII tokens gather in a string first and reach a Buffer
 * in one copy with the next long text: a native write per token costs more than the token.
 */
class ChunkedBuffer implements JsonOutput {
  private full: Buffer[] = [];
  private chunk: Buffer;
  private at = 0;
  private pending = '';

  constructor(private readonly pool?: ChunkPool) {
    this.chunk = pool?.take() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

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

  base64(bytes: Uint8Array): void {
    this.latin1(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
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
    if (this.at > 0) this.full.push(this.chunk.subarray(0, this.at));
    else this.pool?.give(this.chunk);
    this.chunk = atLeast <= CHUNK_BYTES && this.pool ? this.pool.take() : Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    this.at = 0;
  }

  /** Whole chunks are ready to be written out. */
  get hasFull(): boolean {
    return this.full.length > 0;
  }

  /** The whole chunks written so far, handed over (the text goes on in the current chunk). */
  takeFull(): Buffer[] {
    const out = this.full;
    this.full = [];
    return out;
  }

  /** The rest of the text, in pieces: what `takeFull` has not handed over. */
  parts(): Buffer[] {
    this.flush();
    return this.at > 0 ? [...this.takeFull(), this.chunk.subarray(0, this.at)] : this.takeFull();
  }
}

// ASCII without `"` and `\` and control characters: JSON.stringify leaves such text as it is.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function writeString(out: JsonOutput, text: string): void {
  if (text.length < 256 && PLAIN_ASCII.test(text)) {
    out.token('"' + text + '"');
    return;
  }
  const json = JSON.stringify(text);
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0x7f) return out.utf8(json);
  if (json.length < 256) out.token(json);
  else out.latin1(json);
}

function writeValue(out: JsonOutput, value: unknown): void {
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
    out.base64(value);
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
  writeMembers(out, value, 0, undefined);
}

/**
 * What the top level of a streamed answer does with its members (`streamJson`): a Deferred is taken
 * when it is reached, and a list is written by the caller, item by item with pauses between them.
 */
interface MemberHook {
  /** The value a member is written as. */
  resolve(member: unknown): unknown;
  /** True: the loop stops after the member's key, and the caller writes `v` (kept until then). */
  take(v: unknown): boolean;
}

/**
 * Writes an object's members as JSON.stringify does (own keys in order, leaving out undefined,
 * functions and symbols) from its `from`th key on, `{` first when `from` is 0 and `}` at the end,
 * then -1. When `hook` takes a member, the loop stops after that member's key and returns the `from`
 * to go on with once the caller has written its value. Without a hook (every nested object) it runs
 * once to the end, allocating nothing per member.
 */
function writeMembers(out: JsonOutput, value: object, from: number, hook: MemberHook | undefined): number {
  let first = from === 0;
  if (first) out.token('{');
  let index = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    // Going on after a member the caller wrote: the keys before it are done.
    if (index++ < from) continue;
    const member = (value as Record<string, unknown>)[key];
    const v = hook === undefined ? member : hook.resolve(member);
    if (!isWritten(v)) continue;
    if (!first) out.token(',');
    first = false;
    writeString(out, key);
    out.token(':');
    if (hook !== undefined && hook.take(v)) return index;
    writeValue(out, v);
  }
  out.token('}');
  return -1;
}

/** A member of an object that JSON.stringify writes (it leaves out undefined, functions and symbols). */
function isWritten(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

/** The byte length of the JSON text of an answer, without writing it. */
export function jsonLength(value: unknown): number {
  const out = new JsonLength();
  writeValue(out, value);
  return out.bytes;
}

/**
 * Where `streamJson` writes. `write` takes a piece and calls `sent` once the piece is out (true) or
 * will never be (false), and returns false when the receiver is behind; `drained` resolves true
 * when the receiver caught up, false when it went away.
 */
export interface BodySink {
  write(part: Buffer, sent: (ok: boolean) => void): boolean;
  drained(): Promise<boolean>;
}

/**
 * A top-level list of an answer whose items arrive in batches while it is written (the records of
 * a GetRecords, fetch after fetch). Only `streamJson` writes it; `collectStreamed` makes it a list.
 */
export class StreamedList<T = unknown> {
  constructor(readonly batches: AsyncIterable<readonly T[]>) {}
}

/** A top-level member whose value is known once the members before it are written (what follows a StreamedList). */
export class Deferred<T = unknown> {
  constructor(readonly value: () => T) {}
}

/** An answer has members that only `streamJson` or `collectStreamed` can write. */
export function hasStreamed(value: Record<string, unknown>): boolean {
  return Object.values(value).some((v) => v instanceof StreamedList || v instanceof Deferred);
}

/** The answer with its streamed lists read to the end and its deferred members taken after them, in member order. */
export async function collectStreamed(value: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v instanceof StreamedList) {
      const items: unknown[] = [];
      for await (const batch of v.batches as AsyncIterable<readonly unknown[]>) items.push(...batch);
      out[key] = items;
    } else out[key] = v instanceof Deferred ? v.value() : v;
  }
  return out;
}

/** The top level of a streamed answer: Deferred members taken when reached, lists left to `streamJson`. */
class TopLevelLists implements MemberHook {
  /** The list the member loop stopped at. */
  taken: readonly unknown[] | StreamedList = [];

  resolve(member: unknown): unknown {
    return member instanceof Deferred ? member.value() : member;
  }

  take(v: unknown): boolean {
    if (!Array.isArray(v) && !(v instanceof StreamedList)) return false;
    this.taken = v;
    return true;
  }
}

/**
 * Writes the JSON text of an answer to `sink` in chunks taken from `pool` as they fill, each given
 * back once sent. It hands chunks over between the items of the answer's top-level lists (the
 * records of GetRecords) and waits there while the sink is behind; a top-level StreamedList is
 * written as its batches arrive, and a Deferred member when it is reached. False when the sink went
 * away before the end (the rest is not written, and a StreamedList is not read on).
 */
export async function streamJson(value: unknown, sink: BodySink, pool: ChunkPool): Promise<boolean> {
  const out = new ChunkedBuffer(pool);
  const handOver = (parts: Buffer[]): boolean => {
    let behind = false;
    for (const part of parts) {
      const sent = (ok: boolean) => {
        if (ok) pool.give(part);
      };
      if (!sink.write(part, sent)) behind = true;
    }
    return behind;
  };
  const isPlainObject = value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
  if (!isPlainObject) {
    writeValue(out, value);
    handOver(out.parts());
    return true;
  }
  // The members as writeValue writes them, but each list item by item, with a hand-over after each.
  const lists = new TopLevelLists();
  const answer = value as object;
  for (let at = writeMembers(out, answer, 0, lists); at !== -1; at = writeMembers(out, answer, at, lists)) {
    const list = lists.taken;
    out.token('[');
    let items = 0;
    for await (const batch of list instanceof StreamedList ? (list.batches as AsyncIterable<readonly unknown[]>) : [list]) {
      for (let i = 0; i < batch.length; i++) {
        if (items++ > 0) out.token(',');
        writeValue(out, batch[i]);
        if (out.hasFull && handOver(out.takeFull()) && !(await sink.drained())) return false;
      }
    }
    out.token(']');
  }
  handOver(out.parts());
  return true;
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
