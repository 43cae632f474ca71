/**
 * Settings as one schema per service, validated once at start-up.
 *
 * A schema maps a camelCase key to a `Setting`: its environment variable, a one-line doc,
 * its default (and unit), and a parser that turns raw input (an env string or a YAML value)
 * into a typed value or throws a short problem description. From one schema we get the
 * typed settings object, `--help`, the README table, and the exit-2 error line.
 *
 * Precedence (12-factor): environment variable > `--config FILE` (YAML) > default.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors';

/**
 * How much a reader needs a setting, as Debezium groups connector properties:
 * `required` — the service does nothing useful until it is set (a database URL, the topics, a rules file);
 * `common` — usually looked at (brokers, group ids, ports, log level, modes, batch sizes);
 * `tuning` — rarely changed (timeouts, buffers, concurrency, backoff).
 */
export type Importance = 'required' | 'common' | 'tuning';

/** The groups in the order `--help` and the README show them, with their headings. */
export const IMPORTANCE_GROUPS: readonly { readonly importance: Importance; readonly title: string; readonly blurb: string }[] = [
  { importance: 'required', title: 'Required', blurb: 'the service does nothing useful until these are set' },
  { importance: 'common', title: 'Common', blurb: 'usually looked at' },
  { importance: 'tuning', title: 'Tuning', blurb: 'rarely changed: timeouts, buffers, concurrency, backoff' },
];

export interface Setting<T> {
  readonly env: string;
  readonly doc: string;
  readonly importance: Importance;
  /** `undefined` means the setting is required. */
  readonly default: T | undefined;
  /** An empty value is accepted (strings). */
  readonly optional: boolean;
  readonly unit?: string;
  /** Secrets are never accepted from config files and never printed. */
  readonly secret: boolean;
  /** Short type description for help output, e.g. `integer 1..1000`. */
  readonly kind: string;
  parse(raw: unknown): T;
}

export type SettingsSchema = Record<string, Setting<unknown>>;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
export type SettingsOf<S extends SettingsSchema> = { readonly [K in keyof S]: ValueOf<S[K]> };

interface Common<T> {
  env: string;
  doc: string;
  importance: Importance;
  default?: T;
  unit?: string;
}

/** Thrown by parsers; wrapped into a ConfigError naming the setting. */
class Problem extends Error {}

function make<T>(c: Common<T> & { optional?: boolean; secret?: boolean }, kind: string, parse: (raw: unknown) => T): Setting<T> {
  return {
    env: c.env,
    doc: c.doc,
    importance: c.importance,
    default: c.default,
    optional: c.optional ?? false,
    unit: c.unit,
    secret: c.secret ?? false,
    kind,
    parse,
  };
}

function asString(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new Problem(`expected a single value, got ${JSON.stringify(raw)}`);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250`, `250ms`, `10s`, `5m`, `1h`, `1d` into milliseconds. Pure; exported for rule files. */
export function parseDurationMs(raw: unknown): number {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
  const text = asString(raw);
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new Problem(`expected a duration such as 500ms, 10s, 5m or 1h, got "${text}"`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']);
}

export const setting = {
  string(c: Common<string> & { optional?: boolean; secret?: boolean; pattern?: RegExp; patternHint?: string }): Setting<string> {
    return make(c, 'string', (raw) => {
      const v = asString(raw);
      if (v === '' && !c.optional) throw new Problem('must not be empty');
      if (c.pattern && v !== '' && !c.pattern.test(v)) throw new Problem(`must be ${c.patternHint ?? `like ${c.pattern}`}, got "${v}"`);
      return v;
    });
  },

  int(c: Common<number> & { min?: number; max?: number; optional?: boolean }): Setting<number> {
    const range = `${c.min ?? ''}..${c.max ?? ''}`;
    return make(c, range === '..' ? 'integer' : `integer ${range}`, (raw) => {
      const text = asString(raw);
      if (!/^-?\d+$/.test(text)) throw new Problem(`must be an integer, got "${text}"`);
      const v = Number(text);
      if (c.min !== undefined && v < c.min) throw new Problem(`must be ≥ ${c.min}, got ${v}`);
      if (c.max !== undefined && v > c.max) throw new Problem(`must be ≤ ${c.max}, got ${v}`);
      return v;
    });
  },

  number(c: Common<number> & { min?: number; max?: number }): Setting<number> {
    return make(c, 'number', (raw) => {
      const text = asString(raw);
      const v = Number(text);
      if (text === '' || !Number.isFinite(v)) throw new Problem(`must be a number, got "${text}"`);
      if (c.min !== undefined && v < c.min) throw new Problem(`must be ≥ ${c.min}, got ${v}`);
      if (c.max !== undefined && v > c.max) throw new Problem(`must be ≤ ${c.max}, got ${v}`);
      return v;
    });
  },

  bool(c: Common<boolean>): Setting<boolean> {
    return make(c, 'boolean', (raw) => {
      if (typeof raw === 'boolean') return raw;
      const text = asString(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      throw new Problem(`must be true or false, got "${text}"`);
    });
  },

  enum<const V extends string>(c: Common<V> & { values: readonly V[] }): Setting<V> {
    return make(c, `one of ${c.values.join('|')}`, (raw) => {
      const text = asString(raw);
      if (!(c.values as readonly string[]).includes(text)) throw new Problem(`must be one of ${c.values.join(', ')}, got "${text}"`);
      return text as V;
    });
  },

  /** Comma-separated in env; a YAML sequence or a comma string in a config file. */
  list(c: Common<string[]> & { item?: (v: string) => void }): Setting<string[]> {
    return make(c, 'comma list', (raw) => {
      const items = Array.isArray(raw) ? raw.map(asString) : asString(raw).split(',');
      const out = items.map((s) => s.trim()).filter((s) => s !== '');
      if (c.item) for (const item of out) c.item(item);
      return out;
    });
  },

  duration(c: Common<number> & { min?: number }): Setting<number> {
    return make({ ...c, unit: 'ms' }, 'duration', (raw) => {
      const v = parseDurationMs(raw);
      if (c.min !== undefined && v < c.min) throw new Problem(`must be ≥ ${c.min}ms, got ${v}ms`);
      return v;
    });
  },

  url(c: Common<string> & { protocols: readonly string[]; optional?: boolean; secret?: boolean }): Setting<string> {
    return make(c, `${c.protocols.join('|')} URL`, (raw) => {
      const text = asString(raw);
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new Problem(`must be a URL (${c.protocols.join(' or ')}://…)`);
      }
      if (!c.protocols.includes(url.protocol.replace(/:$/, ''))) throw new Problem(`must use ${c.protocols.join(' or ')}://, got ${url.protocol}//`);
      return text;
    });
  },
};

/** Raises the same kind of error a parser does, for cross-field checks in a service's schema. */
export function settingProblem(message: string): never {
  throw new Problem(message);
}

export interface LoadSettingsInput {
  env: NodeJS.ProcessEnv;
  /** Parsed `--config FILE`, keyed by setting key or env name. */
  file?: { path: string; values: Record<string, unknown> };
}

/** Validates every setting; the first problem becomes a ConfigError naming the setting. */
export function loadSettings<S extends SettingsSchema>(schema: S, input: LoadSettingsInput): SettingsOf<S> {
  const fileValues = new Map<string, unknown>();
  if (input.file) {
    const byName = new Map<string, string>();
    for (const [key, s] of Object.entries(schema)) {
      byName.set(key, key);
      byName.set(s.env, key);
    }
    for (const [name, value] of Object.entries(input.file.values)) {
      const key = byName.get(name);
      if (!key) throw new ConfigError(`${input.file.path}: ${name}`, 'unknown setting (see --help for the list)');
      if (schema[key].secret)
        throw new ConfigError(schema[key].env, `is a secret and is not accepted in a config file; set the environment variable ${schema[key].env}`);
      fileValues.set(key, value);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) {
    const fromEnv = input.env[s.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileValues.get(key);
    if (raw === undefined || raw === null) {
      if (s.default === undefined) throw new ConfigError(s.env, 'is required but not set');
      out[key] = s.default;
      continue;
    }
    try {
      out[key] = s.parse(raw);
    } catch (err) {
      if (err instanceof Problem) throw new ConfigError(s.env, err.message);
      throw err;
    }
  }
  return out as SettingsOf<S>;
}

/** Reads a YAML config file; a syntax error names the file and line. */
export function readConfigFile(path: string): { path: string; values: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { path, values: parseYamlObject(text, path) };
}

/** Parses YAML text that must hold a mapping; errors name the file and line. Used for routes and rules files too. */
export function parseYamlObject(text: string, path: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(line ? `${path} line ${line}` : path, `malformed YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, 'must be a YAML mapping of settings');
  return value as Record<string, unknown>;
}

function describeDefault(s: Setting<unknown>): string {
  if (s.default === undefined) return 'required';
  if (s.secret || (s.optional && s.default === '')) return 'unset';
  if (Array.isArray(s.default)) return s.default.length ? s.default.join(',') : '(empty)';
  if (s.default === '') return '(empty)';
  return String(s.default);
}

/** A schema's settings split by importance, in `IMPORTANCE_GROUPS` order; empty groups are left out. Pure. */
export function groupSettings(schema: SettingsSchema): { importance: Importance; title: string; blurb: string; settings: Setting<unknown>[] }[] {
  return IMPORTANCE_GROUPS.map((g) => ({ ...g, settings: Object.values(schema).filter((s) => s.importance === g.importance) })).filter(
    (g) => g.settings.length > 0,
  );
}

/** Plain-text settings list for `--help`, grouped by importance, the required ones first. */
export function renderSettingsHelp(schema: SettingsSchema): string {
  return groupSettings(schema)
    .map((g) => {
      const rows = g.settings.map((s) => {
        const unit = s.unit ? ` ${s.unit}` : '';
        return `  ${s.env}\n      ${s.doc}\n      ${s.kind}; default: ${describeDefault(s)}${unit}${s.secret ? '; secret: environment only' : ''}`;
      });
      return [`${g.title} (${g.blurb}):`, ...rows].join('\n');
    })
    .join('\n\n');
}

/** Markdown table of settings. */
export function renderSettingsTable(settings: readonly Setting<unknown>[]): string {
  const lines = ['| Setting | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const s of settings) {
    const def = describeDefault(s);
    const unit = s.unit && s.default !== undefined ? ` ${s.unit}` : '';
    lines.push(`| \`${s.env}\` | ${s.kind.replace(/\|/g, '\\|')} | \`${def}\`${unit} | ${s.doc.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

/** Markdown for the README and docs: one table per importance group under `heading` (e.g. `####`), the required ones first. */
export function renderSettingsSections(schema: SettingsSchema, heading: string): string {
  return groupSettings(schema)
    .map((g) => `${heading} ${g.title} — ${g.blurb}\n\n${renderSettingsTable(g.settings)}`)
    .join('\n\n');
}
