// jest `setupFiles` for the integration project (plain CommonJS, no transform needed).
// Sets the local stack's connection variables (KAFKA_BROKERS, CDC_DATABASE_URL,
// AWS_ENDPOINT_URL_KINESIS, ...) in process.env when they are not already set.
// The values come from scripts/stack/stack.env, which scripts/stack/env.sh also prints,
// so there is one source of truth. A variable already in the environment wins
// (e.g. to point the integration tests at another Kafka).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const STACK_ENV_FILE = path.resolve(__dirname, '..', 'scripts', 'stack', 'stack.env');

/** The KEY=VALUE pairs of scripts/stack/stack.env (comments and blank lines skipped). */
function readStackEnvFile(file = STACK_ENV_FILE) {
  const out = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: not a KEY=VALUE line: ${raw}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The stack variables as they apply now: the environment's value, else stack.env's. */
function stackEnv() {
  const defaults = readStackEnvFile();
  const out = {};
  for (const [key, value] of Object.entries(defaults)) {
    out[key] = process.env[key] !== undefined && process.env[key] !== '' ? process.env[key] : value;
  }
  return out;
}

/** Put the stack variables into process.env where they are not set yet. */
function applyStackEnv() {
  const env = stackEnv();
  for (const [key, value] of Object.entries(env)) {
    if (process.env[key] === undefined || process.env[key] === '') process.env[key] = value;
  }
  return env;
}

applyStackEnv();

module.exports = { STACK_ENV_FILE, readStackEnvFile, stackEnv, applyStackEnv };
