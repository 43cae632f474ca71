#!/usr/bin/env node
// Renders the README's settings tables from the services' own schemas (built dist/), so the docs
// cannot drift from the code. Each service's settings are grouped by importance (required, common,
// tuning) as `--help` groups them. `--check` exits 1 when README.md is out of date.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { commonSettings, renderSettingsSections } = require('@tideway/runtime');

const SERVICES = ['cdc', 'dwh-loader', 'alerting', 'bridge', 'kinesis-api', 'demo'];
const README = join(__dirname, '..', 'README.md');
const BEGIN = '<!-- settings:begin -->';
const END = '<!-- settings:end -->';

function render() {
  const common = commonSettings('<service>');
  const commonEnv = new Set(Object.values(common).map((s) => s.env));
  const parts = ['### Every service', '', renderSettingsSections(common, '####'), ''];
  for (const name of SERVICES) {
    const { definition } = require(`@tideway/${name}`);
    const own = Object.fromEntries(Object.entries(definition.settings).filter(([, s]) => !commonEnv.has(s.env)));
    parts.push(`### \`tideway ${name}\``, '', renderSettingsSections(own, '####'), '');
  }
  return parts.join('\n');
}

function updated(readme) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks ${BEGIN} … ${END}`);
  return `${readme.slice(0, start + BEGIN.length)}\n${render()}${readme.slice(end)}`;
}

module.exports = { render, updated, README };

if (require.main === module) {
  const readme = readFileSync(README, 'utf8');
  const next = updated(readme);
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      process.stderr.write('README.md settings tables are out of date: run `node scripts/settings-docs.js`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(README, next);
  }
}
