#!/usr/bin/env node
// `tideway <service>`: each service is its own process; this file only dispatches.
'use strict';

// The supported runtime is Node 24 LTS (.nvmrc); older lines are past end of life or lack what the
// Kafka and AWS clients need.
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (NODE_MAJOR < 24) {
  process.stderr.write(`tideway: needs Node.js 24 or later, this is ${process.version} (in this repository: source scripts/node-env.sh)\n`);
  process.exit(2);
}

const COMMANDS = {
  cdc: { pkg: '@tideway/cdc', summary: 'PostgreSQL logical replication (pgoutput) → Kafka change topics' },
  'dwh-loader': { pkg: '@tideway/dwh-loader', summary: 'apply Kafka change topics to a warehouse, exactly once in effect' },
  alerting: { pkg: '@tideway/alerting', summary: 'rules and windowed aggregations over topics → alerts topic and webhooks' },
  bridge: { pkg: '@tideway/bridge', summary: 'Kafka → Kinesis Data Streams, Firehose, and S3' },
  'kinesis-api': { pkg: '@tideway/kinesis-api', summary: 'the Kinesis Data Streams and Firehose APIs over HTTP, every record kept in Kafka' },
  demo: { pkg: '@tideway/demo', summary: 'generate realistic policy, claim and transaction changes into PostgreSQL (some trip the fraud rules)' },
};

function usage() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: tideway <command> [--config FILE] [--help]\n\nCommands:\n${lines.join('\n')}\n\nRun 'tideway <command> --help' for a command's settings.\n`;
}

const [command, ...rest] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(usage());
  process.exit(command ? 0 : 2);
}
const entry = COMMANDS[command];
if (!entry) {
  process.stderr.write(`tideway: unknown command "${command}" (expected one of: ${Object.keys(COMMANDS).join(', ')})\n`);
  process.exit(2);
}
let mod;
try {
  mod = require(entry.pkg);
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(entry.pkg)) {
    process.stderr.write(`tideway: ${command} is not built; run 'npm run build' first\n`);
    process.exit(1);
  }
  throw err;
}
mod.main(rest);
