#!/usr/bin/env bash
# A private single-node KRaft Kafka in the foreground, for tests that must stop and restart a
# broker without touching the shared one (9092):
#
#   bash scripts/stack/kafka-private.sh DIR PORT CONTROLLER_PORT
#
# Same jars (cache), server.properties template, log4j2 config and JVM flags as the shared
# broker (lib.sh's kafka_* functions, also used by up.sh). DIR is formatted on first use and
# reused afterwards, so running it again on the same DIR restarts the same broker with its data.
# The script execs java: its pid is the broker's (SIGTERM = controlled shutdown, SIGKILL = crash).
# Log output goes to stdout/stderr. test-support/private-kafka.ts drives it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 3)) || die "usage: kafka-private.sh DIR PORT CONTROLLER_PORT"
dir=$1 port=$2 cport=$3
[[ $port != "$KAFKA_PORT" && $cport != "$KAFKA_CONTROLLER_PORT" ]] || die "ports $KAFKA_PORT/$KAFKA_CONTROLLER_PORT belong to the shared broker"
[[ -f $(kafka_home)/.complete ]] ||
  die "Kafka $KAFKA_VERSION jars are not in $(kafka_home): run 'bash scripts/stack/up.sh --fetch-only kafka'"
mkdir -p "$dir/logs"
kafka_write_config "$dir" "$port" "$cport"
kafka_jvm "$dir/logs"
kafka_format "$dir" /dev/stdout || die "kafka-storage format of $dir/data failed"
exec "${KAFKA_JVM[@]}" kafka.Kafka "$dir/server.properties"
