#!/usr/bin/env bash
# Where the machine's CPU goes while a `tideway alerting` benchmark runs: per thread of the
# alerting process (main thread, evaluation threads, V8's helpers), the local broker, and idle.
#
#   bash bench/alerting/cpu-split.sh <delay-seconds> <window-seconds> &
#   node bench/alerting/bench.js throughput 200000
#
# Prints cores used over the window (1.00 = one core busy the whole window), from /proc.
set -euo pipefail
delay=${1:?usage: cpu-split.sh DELAY WINDOW} window=${2:?usage: cpu-split.sh DELAY WINDOW}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sleep "$delay"
pid=$(pgrep -f "bin/tideway.js alerting" | head -1) || { echo "no tideway alerting process" >&2; exit 1; }
broker=$(cat "$root/.stack/run/kafka.pid")
ticks() { awk '{print $14 + $15}' "$1"; }
idle() { awk '/^cpu /{print $5}' /proc/stat; }
declare -A before names
for t in /proc/"$pid"/task/*; do
  id=${t##*/}
  before[$id]=$(ticks "$t/stat")
  names[$id]=$(cat "$t/comm")
done
b0=$(ticks /proc/"$broker"/stat) i0=$(idle)
sleep "$window"
hz=$(getconf CLK_TCK)
cores() { awk -v d="$1" -v hz="$hz" -v w="$window" 'BEGIN { printf "%.2f", d / hz / w }'; }
for t in /proc/"$pid"/task/*; do
  id=${t##*/}
  [[ -n ${before[$id]:-} ]] || continue
  d=$(($(ticks "$t/stat") - before[$id]))
  # The main thread's id is the process id; worker threads and V8's helpers share the name "node".
  ((d > 0)) && echo "alerting thread $id${names[$id]:+ (${names[$id]})}$([[ $id == "$pid" ]] && echo ' main'): $(cores "$d")"
done
echo "broker: $(cores $(($(ticks /proc/"$broker"/stat) - b0)))"
echo "idle (whole machine): $(cores $(($(idle) - i0)))"
