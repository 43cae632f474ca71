#!/usr/bin/env bash
# `npm run demo [-- --help]`: builds, then runs the whole pipeline on the local stack, on the
# project's Node (scripts/node-env.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
# The default Kafka client is a native addon that a plain `npm ci` may have skipped.
scripts/ensure-kafka-client.sh
npm run -s build
exec node services/demo/dist/pipeline/run-pipeline.js "$@"
