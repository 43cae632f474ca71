#!/usr/bin/env bash
# The default Kafka client, @confluentinc/kafka-javascript, is a native addon and an optional
# dependency: an `npm ci` run without its build tools, or on another Node than the project's, skips
# it. This makes sure it loads on the project's Node, installing once more (with the build tools and
# CKJS_LINKING=dynamic, see README "Test it") when it does not. Run under scripts/node-env.sh.
#   scripts/ensure-kafka-client.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
loads() { node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; }
loads && exit 0
echo "ensure-kafka-client: @confluentinc/kafka-javascript does not load on node $(node --version); building it (librdkafka from source: a few minutes)" >&2
scripts/ensure-native-build-deps.sh
CKJS_LINKING=dynamic npm ci --no-audit --no-fund >&2
loads || {
  echo "ensure-kafka-client: @confluentinc/kafka-javascript still does not load; see the npm ci output above, or run with KAFKA_CLIENT=kafkajs" >&2
  exit 1
}
echo "ensure-kafka-client: built" >&2
