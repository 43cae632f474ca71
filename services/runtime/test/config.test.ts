import {
  groupSettings,
  loadSettings,
  parseDurationMs,
  parseYamlObject,
  renderSettingsHelp,
  renderSettingsSections,
  renderSettingsTable,
  setting,
} from '../src/config';
import { ConfigError } from '../src/errors';

const schema = {
  slot: setting.string({
    env: 'T_SLOT',
    importance: 'common',
    doc: 'Slot name.',
    default: 'tideway',
    pattern: /^[a-z0-9_]+$/,
    patternHint: 'lower-case letters, digits and _',
  }),
  partitions: setting.int({ env: 'T_PARTITIONS', importance: 'tuning', doc: 'Partitions.', default: 3, min: 1, max: 1000 }),
  mode: setting.enum({ env: 'T_MODE', importance: 'common', doc: 'Mode.', values: ['upsert', 'history'] as const, default: 'upsert' }),
  tables: setting.list({ env: 'T_TABLES', importance: 'required', doc: 'Tables.', default: [] }),
  heartbeat: setting.duration({ env: 'T_HEARTBEAT', importance: 'tuning', doc: 'Heartbeat.', default: 10_000 }),
  url: setting.url({ env: 'T_URL', importance: 'required', doc: 'DB.', protocols: ['postgres', 'postgresql'] }),
  password: setting.string({ env: 'T_PASSWORD', importance: 'common', doc: 'Secret.', secret: true, optional: true, default: '' }),
};

function expectConfigError(fn: () => unknown, setting: string, pattern: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(setting);
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message).not.toContain('\n');
    return;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  const base = { T_URL: 'postgres://127.0.0.1/app' };

  it('applies defaults and parses env values', () => {
    const s = loadSettings(schema, { env: { ...base, T_PARTITIONS: '6', T_TABLES: 'public.a, public.b', T_HEARTBEAT: '5s' } });
    expect(s).toMatchObject({ slot: 'tideway', partitions: 6, mode: 'upsert', tables: ['public.a', 'public.b'], heartbeat: 5000 });
  });

  it('names the setting when a required one is missing', () => {
    expectConfigError(() => loadSettings(schema, { env: {} }), 'T_URL', /required/);
  });

  it.each([
    ['T_PARTITIONS', 'abc', /integer/],
    ['T_PARTITIONS', '0', /≥ 1/],
    ['T_MODE', 'merge', /one of upsert, history/],
    ['T_HEARTBEAT', 'soon', /duration/],
    ['T_SLOT', 'Bad-Slot', /lower-case/],
  ])('rejects %s=%s with one line', (env, value, pattern) => {
    expectConfigError(() => loadSettings(schema, { env: { ...base, [env]: value } }), env, pattern);
  });

  it('rejects a URL of the wrong scheme', () => {
    expectConfigError(() => loadSettings(schema, { env: { T_URL: 'mysql://x/y' } }), 'T_URL', /postgres/);
  });

  it('takes values from a config file by key or env name; env wins', () => {
    const s = loadSettings(schema, {
      env: { ...base, T_MODE: 'history' },
      file: { path: 'c.yaml', values: { partitions: 9, T_MODE: 'upsert', tables: ['x.y'] } },
    });
    expect(s).toMatchObject({ partitions: 9, mode: 'history', tables: ['x.y'] });
  });

  it('refuses secrets and unknown keys in config files', () => {
    expectConfigError(() => loadSettings(schema, { env: base, file: { path: 'c.yaml', values: { T_PASSWORD: 'x' } } }), 'T_PASSWORD', /secret/);
    expectConfigError(() => loadSettings(schema, { env: base, file: { path: 'c.yaml', values: { nope: 1 } } }), 'c.yaml: nope', /unknown setting/);
  });
});

describe('parseYamlObject', () => {
  it('names the line of a syntax error', () => {
    expectConfigError(() => parseYamlObject('a: 1\nb: [1, 2\nc: 3\n', 'rules.yaml'), 'rules.yaml line 3', /malformed YAML/);
  });
  it('rejects a non-mapping document', () => {
    expectConfigError(() => parseYamlObject('- 1\n- 2\n', 'x.yaml'), 'x.yaml', /mapping/);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
  ])('%s → %d', (raw, ms) => expect(parseDurationMs(raw)).toBe(ms));
});

describe('renderSettingsTable', () => {
  it('never shows a secret default', () => {
    const table = renderSettingsTable(Object.values(schema));
    expect(table).toContain('`T_PASSWORD`');
    expect(table).toContain('| `T_SLOT` | string | `tideway` |');
  });
});

describe('settings grouped by importance', () => {
  it('groups required, then common, then tuning, keeping the schema order within a group', () => {
    expect(groupSettings(schema).map((g) => [g.importance, g.settings.map((s) => s.env)])).toEqual([
      ['required', ['T_TABLES', 'T_URL']],
      ['common', ['T_SLOT', 'T_MODE', 'T_PASSWORD']],
      ['tuning', ['T_PARTITIONS', 'T_HEARTBEAT']],
    ]);
  });

  it('leaves out a group without settings', () => {
    expect(groupSettings({ slot: schema.slot, heartbeat: schema.heartbeat }).map((g) => g.importance)).toEqual(['common', 'tuning']);
  });

  it('--help prints each setting once, under its heading, the required ones first', () => {
    const help = renderSettingsHelp(schema);
    const at = (text: string) => help.indexOf(text);
    const headings = ['Required (', 'Common (', 'Tuning ('].map(at);
    expect(headings.every((i) => i >= 0)).toBe(true);
    expect([...headings].sort((a, b) => a - b)).toEqual(headings);
    for (const s of Object.values(schema)) expect(help.split(`  ${s.env}\n`)).toHaveLength(2);
    expect(at('T_URL')).toBeLessThan(headings[1]);
    expect(at('T_SLOT')).toBeGreaterThan(headings[1]);
    expect(at('T_SLOT')).toBeLessThan(headings[2]);
    expect(at('T_HEARTBEAT')).toBeGreaterThan(headings[2]);
  });

  it('renders one markdown table per group under the given heading', () => {
    const md = renderSettingsSections(schema, '####');
    expect(md.match(/^#### .*$/gm)).toEqual([
      '#### Required — the service does nothing useful until these are set',
      '#### Common — usually looked at',
      '#### Tuning — rarely changed: timeouts, buffers, concurrency, backoff',
    ]);
    expect(md.indexOf('`T_URL`')).toBeLessThan(md.indexOf('#### Common'));
    expect(md.indexOf('`T_HEARTBEAT`')).toBeGreaterThan(md.indexOf('#### Tuning'));
  });
});
