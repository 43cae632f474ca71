#!/usr/bin/env bash
# Print `export` lines for the local stack's clients:
#   eval "$(npm run -s stack:env)"
# Values come from scripts/stack/stack.env (also read by test-support/load-stack-env.js).
set -euo pipefail
file="$(dirname "${BASH_SOURCE[0]}")/stack.env"
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%$'\r'}
  [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
  key=${line%%=*}
  value=${line#*=}
  printf 'export %s=%q\n' "$key" "$value"
done <"$file"
