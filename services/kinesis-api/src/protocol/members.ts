/**
 * Reads the members of a decoded request by the operation's shape, the way Kinesis checks them:
 * a member of the wrong type is a SerializationException at once; constraint violations (missing,
 * too long, out of range, not matching the pattern) are gathered and reported together as one
 * ValidationException, worded as AWS words them. Pure.
 */
import { KinesisApiError } from '../errors';
import { wireBlob, wireTimestamp, type WireFormat } from './wire';

interface Bounds {
  min?: number;
  max?: number;
}

/** Member name as AWS validation messages spell it: `streamName`, `records.1.member.data`. */
function lowerCamel(name: string): string {
  return name.replace(/(^|\.)([A-Z])/g, (_m, dot: string, c: string) => dot + c.toLowerCase());
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

export class MemberReader {
  private readonly problems: string[];

  constructor(
    readonly format: WireFormat,
    private readonly input: Record<string, unknown>,
    private readonly path = '',
    problems?: string[],
  ) {
    this.problems = problems ?? [];
  }

  private where(name: string): string {
    return lowerCamel(this.path + name);
  }

  private raw(name: string): unknown {
    const v = this.input[name];
    return v === null ? undefined : v;
  }

  private wrongType(name: string, expected: string): never {
    throw new KinesisApiError('SerializationException', `Member ${this.path + name} must be ${expected}`);
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  problem(name: string, value: unknown, constraint: string): void {
    this.problems.push(`Value ${value === undefined ? 'null' : quote(value)} at '${this.where(name)}' failed to satisfy constraint: ${constraint}`);
  }

  private required<T>(name: string, value: T | undefined, required: boolean): T | undefined {
    if (value === undefined && required) this.problem(name, undefined, 'Member must not be null');
    return value;
  }

  private length(name: string, shown: unknown, length: number, b: Bounds): void {
    if (b.min !== undefined && length < b.min) this.problem(name, shown, `Member must have length greater than or equal to ${b.min}`);
    if (b.max !== undefined && length > b.max) this.problem(name, shown, `Member must have length less than or equal to ${b.max}`);
  }

  string(name: string, c: Bounds & { required?: boolean; pattern?: RegExp } = {}): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && typeof v !== 'string') this.wrongType(name, 'a string');
    if (v !== undefined) {
      this.length(name, v, [...v].length, c);
      if (c.pattern && !new RegExp(`^(?:${c.pattern.source})$`, 'u').test(v))
        this.problem(name, v, `Member must satisfy regular expression pattern: ${c.pattern.source}`);
    }
    return this.required(name, v, c.required ?? false);
  }

  enum<const V extends string>(name: string, values: readonly V[], c: { required?: boolean } = {}): V | undefined {
    const v = this.string(name, c);
    if (v !== undefined && !(values as readonly string[]).includes(v)) this.problem(name, v, `Member must satisfy enum value set: [${values.join(', ')}]`);
    return v as V | undefined;
  }

  int(name: string, c: Bounds & { required?: boolean } = {}): number | undefined {
    const v = this.raw(name);
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) this.wrongType(name, 'an integer');
    if (v !== undefined) {
      if (c.min !== undefined && v < c.min) this.problem(name, v, `Member must have value greater than or equal to ${c.min}`);
      if (c.max !== undefined && v > c.max) this.problem(name, v, `Member must have value less than or equal to ${c.max}`);
    }
    return this.required(name, v, c.required ?? false);
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v !== undefined && typeof v !== 'boolean') this.wrongType(name, 'a boolean');
    return v;
  }

  blob(name: string, c: { required?: boolean; max?: number } = {}): Buffer | undefined {
    const v = this.raw(name);
    const bytes = v === undefined ? undefined : wireBlob(this.format, v);
    if (v !== undefined && bytes === undefined) this.wrongType(name, this.format === 'json' ? 'base64 text' : 'a byte string');
    if (bytes !== undefined && c.max !== undefined && bytes.length > c.max)
      this.problem(name, `<${bytes.length} bytes>`, `Member must have length less than or equal to ${c.max}`);
    return this.required(name, bytes, c.required ?? false);
  }

  timestamp(name: string, c: { required?: boolean } = {}): Date | undefined {
    const v = this.raw(name);
    const date = v === undefined ? undefined : wireTimestamp(this.format, v);
    if (v !== undefined && date === undefined) this.wrongType(name, this.format === 'json' ? 'epoch seconds' : 'epoch milliseconds (CBOR tag 1)');
    return this.required(name, date, c.required ?? false);
  }

  /** A list of structures; `read` gets a reader of each, whose problems join these. */
  structures<T>(name: string, read: (member: MemberReader) => T, c: Bounds & { required?: boolean } = {}): T[] | undefined {
    const v = this.raw(name);
    if (v !== undefined && !Array.isArray(v)) this.wrongType(name, 'a list');
    if (v === undefined) return this.required(name, undefined, c.required ?? false);
    this.length(name, `[${v.length} items]`, v.length, c);
    return v.map((item: unknown, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) this.wrongType(`${name}.${i + 1}`, 'a structure');
      return read(new MemberReader(this.format, item as Record<string, unknown>, `${this.path}${name}.${i + 1}.member.`, this.problems));
    });
  }

  structure<T>(name: string, read: (member: MemberReader) => T): T | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) this.wrongType(name, 'a structure');
    return read(new MemberReader(this.format, v as Record<string, unknown>, `${this.path}${name}.`, this.problems));
  }

  strings(name: string, c: Bounds & { required?: boolean; item?: Bounds } = {}): string[] | undefined {
    const v = this.raw(name);
    if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))) this.wrongType(name, 'a list of strings');
    if (v === undefined) return this.required(name, undefined, c.required ?? false);
    const list = v as string[];
    this.length(name, `[${list.join(', ')}]`, list.length, c);
    if (c.item) list.forEach((s, i) => this.length(`${name}.${i + 1}.member`, s, [...s].length, c.item!));
    return list;
  }

  stringMap(name: string, c: Bounds & { required?: boolean; key?: Bounds; value?: Bounds } = {}): Record<string, string> | undefined {
    const v = this.raw(name);
    if (
      v !== undefined &&
      (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array || Object.values(v as object).some((s) => typeof s !== 'string'))
    ) {
      this.wrongType(name, 'a map of strings');
    }
    if (v === undefined) return this.required(name, undefined, c.required ?? false);
    const map = v as Record<string, string>;
    this.length(name, `{${Object.keys(map).join(', ')}}`, Object.keys(map).length, c);
    for (const [k, s] of Object.entries(map)) {
      if (c.key) this.length(`${name}.key`, k, [...k].length, c.key);
      if (c.value) this.length(`${name}.${k}`, s, [...s].length, c.value);
    }
    return map;
  }

  /** Throws the gathered constraint violations as one ValidationException. */
  done(): void {
    const n = this.problems.length;
    if (n > 0) throw new KinesisApiError('ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`);
  }
}
