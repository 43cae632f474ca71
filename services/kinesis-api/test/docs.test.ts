/** docs/kinesis-api.md shows the service's own settings as the schema defines them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonSettings, renderSettingsSections } from '@tideway/runtime';
import { settings } from '../src/config';

it('docs/kinesis-api.md lists every setting of the service, grouped by importance', () => {
  const common = new Set(Object.values(commonSettings('kinesis-api')).map((s) => s.env));
  const own = Object.fromEntries(Object.entries(settings).filter(([, s]) => !common.has(s.env)));
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'kinesis-api.md'), 'utf8');
  expect(doc).toContain(renderSettingsSections(own, '###'));
});
