// jest `globalSetup`: tests that run a service as a process (`bin/tideway.js`) or on a worker
// thread load the built `dist/`, so build first (incremental; a few seconds when up to date).
// A test run never sees code older than the sources.
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function buildBeforeTests() {
  const root = path.resolve(__dirname, '..');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const r = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`the build failed, so tests would run stale dist/ code:\n${r.stdout}${r.stderr}`);
  }
};
