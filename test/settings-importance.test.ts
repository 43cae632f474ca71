/** Every setting of every command is in one importance group, so `--help` and the README can group them. */
import { IMPORTANCE_GROUPS, type SettingsSchema } from '@tideway/runtime';
import { definition as cdc } from '@tideway/cdc';
import { definition as dwhLoader } from '@tideway/dwh-loader';
import { definition as alerting } from '@tideway/alerting';
import { definition as bridge } from '@tideway/bridge';
import { definition as demo } from '@tideway/demo';
import { pipelineSettings } from '../services/demo/src/pipeline/pipeline-settings';
import { settings as kinesisApi } from '../services/kinesis-api/src/config';

const SCHEMAS: [string, SettingsSchema][] = [
  ['cdc', cdc.settings],
  ['dwh-loader', dwhLoader.settings],
  ['alerting', alerting.settings],
  ['bridge', bridge.settings],
  ['demo', demo.settings],
  ['kinesis-api', kinesisApi],
  ['npm run demo', pipelineSettings],
];
const GROUPS = IMPORTANCE_GROUPS.map((g) => g.importance);

describe.each(SCHEMAS)('%s settings', (_name, schema) => {
  it('each belongs to one importance group', () => {
    for (const s of Object.values(schema)) expect([s.env, GROUPS.includes(s.importance)]).toEqual([s.env, true]);
  });

  it('a setting without a default is in the required group', () => {
    for (const s of Object.values(schema)) if (s.default === undefined) expect([s.env, s.importance]).toEqual([s.env, 'required']);
  });
});
