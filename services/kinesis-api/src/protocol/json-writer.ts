/**
 * A JSON 1.1 answer written straight into one Buffer: byte for byte what JSON.stringify gives for
 * the answer with its blobs as base64 and its timestamps as epoch seconds, without first copying
 * the answer into a tree of strings. A GetRecords answer holds up to 10 MiB of data: the text is
 * gathered in pieces of about 64 KiB (each record's base64 goes into a piece as it is made), so
 * neither a copy of the records nor one long string of the whole answer is ever held. Pure.
 */

const PIECE_CHARS = 64 * 1024;

class Pieces {
  readonly done: string[] = [];
  bytes = 0;
  private open = '';

  add(text: string): void {
    this.open += text;
    if (this.open.length >= PIECE_CHARS) this.flush();
  }

  flush(): void {
    if (this.open === '') return;
    this.bytes += Buffer.byteLength(this.open, 'utf8');
    this.done.push(this.open);
    this.open = '';
  }
}

function writeValue(out: Pieces, value: unknown): void {
  if (value === null || value === undefined) return out.add('null');
  switch (typeof value) {
    case 'string':
      return out.add(JSON.stringify(value));
    case 'number':
    case 'boolean':
      return out.add(JSON.stringify(value));
    case 'object':
      break;
    default:
      // Functions and symbols are null in an array, as with JSON.stringify; bigints throw there too.
      return out.add(JSON.stringify(value) ?? 'null');
  }
  if (value instanceof Uint8Array) return out.add('"' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') + '"');
  if (value instanceof Date) return out.add(JSON.stringify(value.getTime() / 1000));
  if (Array.isArray(value)) {
    out.add('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.add(',');
      writeValue(out, value[i]);
    }
    return out.add(']');
  }
  out.add('{');
  let first = true;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out.add(first ? JSON.stringify(key) + ':' : ',' + JSON.stringify(key) + ':');
    first = false;
    writeValue(out, v);
  }
  out.add('}');
}

/** The JSON text of an answer (plain objects, arrays, strings, numbers, Buffers as base64, Dates as epoch seconds). */
export function encodeJson(value: unknown): Buffer {
  const out = new Pieces();
  writeValue(out, value);
  out.flush();
  const body = Buffer.allocUnsafe(out.bytes);
  let at = 0;
  for (const piece of out.done) at += body.write(piece, at, 'utf8');
  return body;
}
