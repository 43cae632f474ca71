#!/usr/bin/env bash
# One line per part: up/starting/down, pid, address. Exit 0 when every part is up.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A port=([kafka]=$KAFKA_PORT [postgres]=$PG_PORT [kinesis]=$KINESIS_PORT [moto]=$MOTO_PORT [opensearch]=$OPENSEARCH_PORT)
PG_BIN=$(pg_bindir || true)

# Real requests for the running parts, all at once.
declare -A probe_ok=()
node_parts=()
for p in kafka kinesis moto opensearch; do
  if port_open "${port[$p]}"; then node_parts+=("$p"); fi
done
if ((${#node_parts[@]})); then
  while IFS= read -r line; do
    [[ $line == *": ok: "* ]] && probe_ok[${line%%:*}]=1
  done < <(PROBE_TIMEOUT_MS=3000 probe "${node_parts[@]}" 2>&1 || true)
fi
if port_open "$PG_PORT" && [[ -n $PG_BIN ]] &&
  PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -h "$BIND_HOST" -p "$PG_PORT" -U postgres -d postgres -XAtqc 'select 1' >/dev/null 2>&1; then
  probe_ok[postgres]=1
fi

all_up=true
for p in "${ALL_PARTS[@]}"; do
  if pid=$(part_pid "$p"); then
    if [[ -n ${probe_ok[$p]:-} ]]; then state=up; else state=starting; all_up=false; fi
  else
    pid=-; state=down
    if [[ -n ${probe_ok[$p]:-} ]]; then
      state="up (served by a process this checkout did not start)"
    elif port_open "${port[$p]}"; then
      state="down (port in use by another process)"; all_up=false
    else
      all_up=false
    fi
  fi
  printf '%-10s %-5s pid=%-8s %s:%s  log=.stack/logs/%s.log\n' "$p" "$state" "$pid" "$BIND_HOST" "${port[$p]}" "$p"
done
$all_up
