#!/usr/bin/env bash
# A single-node OpenSearch in the foreground (no security plugin, HTTP on 127.0.0.1 only):
#
#   bash scripts/stack/opensearch-node.sh DIR HTTP_PORT TRANSPORT_PORT
#
# up.sh runs it for the shared node (.stack/opensearch, 9200); test-support/private-opensearch.ts for
# a node of a test's own, to stop and restart. Config, data and logs live in DIR and are kept, so
# running it again on the same DIR restarts the same node with its indices. The script execs java
# (through setpriv as user tideway-opensearch when run as root: OpenSearch refuses root), so its
# pid is the node's (SIGTERM = clean shutdown, SIGKILL = crash). Log output goes to stdout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 3)) || die "usage: opensearch-node.sh DIR HTTP_PORT TRANSPORT_PORT"
dir=$1 port=$2 tport=$3
[[ -f $(opensearch_home)/.complete ]] ||
  die "OpenSearch $OPENSEARCH_VERSION is not in $(opensearch_home): run 'bash scripts/stack/up.sh --fetch-only opensearch'"
command -v java >/dev/null || die "java not found (need Java 17+: apt-get install -y openjdk-17-jre-headless)"
opensearch_ensure_user
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
opensearch_write_config "$dir" "$port" "$tport"
as_opensearch_user test -w "$dir/data" ||
  die "$(opensearch_os_user) cannot write $dir/data"
opensearch_jvm "$dir"
exec "${OPENSEARCH_JVM[@]}"
