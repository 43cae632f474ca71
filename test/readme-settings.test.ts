/** The README's settings tables are rendered from the schemas; this fails when they drift. */
import { readFileSync } from 'node:fs';

const { updated, README } = require('../scripts/settings-docs.js') as { updated(readme: string): string; README: string };

it('README.md lists every setting of every service as the schemas define them (run `node scripts/settings-docs.js`)', () => {
  const readme = readFileSync(README, 'utf8');
  expect(updated(readme)).toBe(readme);
});
