#!/usr/bin/env bash
# `npm test`: everything CI runs, in order:
#   the native Kafka client (built when it does not load), lockfile check, lint, typecheck, build, unit tests, `npm run stack:up` (a no-op when the stack is up),
#   integration tests against the real local stack.
# A failing step does not stop the later ones (so one run shows every problem), but the
# script exits non-zero when any step or test failed, a test was skipped or left todo, a
# project ran no test, or a project's result file is missing.
# The last line is the jest totals over both runs: `N passed, N failed[, N skipped]`.
#
# Environment:
#   TEST_INT_WORKERS   jest workers for the integration run (default 2; 1 = --runInBand)
#   TEST_SKIP_STATIC=1 skip lint/typecheck/build (quick re-runs while developing)
#   TEST_CONTAINERS=1  also `npm run test:containers` (the image and docker-compose.yml, run for real;
#                      needs root for Debian's docker.io; .ci/run sets it); its checks join the totals
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
RESULTS="$ROOT/.stack/test-results"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/unit.json "$RESULTS"/integration.json

failed_steps=()
step() { # name cmd...
  local name=$1 t0=$SECONDS rc
  shift
  printf '\n==== %s: %s\n' "$name" "$*"
  "$@"
  rc=$?
  if ((rc != 0)); then
    failed_steps+=("$name")
    printf '==== %s FAILED (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - t0))"
  else
    printf '==== %s ok (%ss)\n' "$name" "$((SECONDS - t0))"
  fi
  return "$rc"
}

# The default Kafka client is a native addon, an optional dependency that a plain npm ci may have
# skipped: built here when it does not load, so that no service test fails for the want of it.
step kafka-client bash scripts/ensure-kafka-client.sh

if [[ ${TEST_SKIP_STATIC:-0} != 1 ]]; then
  # CI's `npm ci` rejects a lock that lost the other platforms' optional builds (see the script).
  step lockfile node scripts/lock-add-foreign-platforms.js --check
  step lint npm run -s lint
  step typecheck npm run -s typecheck
  step build npm run -s build
fi

step unit npx jest --selectProjects unit --json --outputFile="$RESULTS/unit.json"

workers=${TEST_INT_WORKERS:-2}
if [[ $workers == 1 ]]; then int_par=(--runInBand); else int_par=("--maxWorkers=$workers"); fi
if step stack:up npm run -s stack:up; then
  # --forceExit: a test that leaks a handle must not hang CI (jest still reports it).
  step integration npx jest --selectProjects integration "${int_par[@]}" --forceExit \
    --json --outputFile="$RESULTS/integration.json"
else
  echo "==== integration tests not run: the stack did not come up"
fi

if [[ ${TEST_CONTAINERS:-0} == 1 ]]; then
  rm -f "$RESULTS/containers.log"
  step containers bash -c 'bash scripts/containers/test.sh 2>&1 | tee "$1"; exit "${PIPESTATUS[0]}"' _ "$RESULTS/containers.log"
fi

# Totals from jest's own JSON results.
summary=$(node - "$RESULTS/unit.json" "$RESULTS/integration.json" <<'EOF'
const fs = require('node:fs');
let passed = 0, failed = 0, skipped = 0, missing = [], empty = [];
for (const f of process.argv.slice(2)) {
  if (!fs.existsSync(f)) { missing.push(f); continue; }
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (r.numTotalTests === 0) empty.push(f);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests || 0);
  // A suite that failed to run (syntax error, failing beforeAll import) has no failed test:
  // count it as one failure so it cannot pass unnoticed.
  failed += r.testResults.filter((s) => s.status === 'failed' && !s.assertionResults.some((a) => a.status === 'failed')).length;
}
console.log(JSON.stringify({ passed, failed, skipped, missing, empty }));
EOF
)
passed=$(node -pe "JSON.parse(process.argv[1]).passed" "$summary")
failed=$(node -pe "JSON.parse(process.argv[1]).failed" "$summary")
skipped=$(node -pe "JSON.parse(process.argv[1]).skipped" "$summary")
missing=$(node -pe "JSON.parse(process.argv[1]).missing.join(' ')" "$summary")
empty=$(node -pe "JSON.parse(process.argv[1]).empty.join(' ')" "$summary")

rc=0
echo
if ((${#failed_steps[@]})); then
  echo "FAILED steps: ${failed_steps[*]}"
  rc=1
fi
if ((failed > 0)); then rc=1; fi
# A skipped or todo test is a test that did not run: it fails the run like a failing one.
if ((skipped > 0)); then
  echo "FAILED: $skipped test(s) skipped or todo"
  rc=1
fi
if [[ -n $missing ]]; then
  echo "FAILED: no result file: ${missing//$ROOT\//}"
  rc=1
fi
if [[ -n $empty ]]; then
  echo "FAILED: a project ran no test: ${empty//$ROOT\//}"
  rc=1
fi
if ((passed + failed == 0)); then
  echo "FAILED: no test ran"
  rc=1
fi
if [[ ${TEST_CONTAINERS:-0} == 1 ]]; then
  # The container checks' own last line: `N passed, N failed`.
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$RESULTS/containers.log" 2>/dev/null | tail -n 1)
  if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "FAILED: the container checks reported no totals"
    failed=$((failed + 1))
    rc=1
  fi
  ((failed > 0)) && rc=1
fi
line="$passed passed, $failed failed"
((skipped > 0)) && line+=", $skipped skipped"
echo "$line"
exit "$rc"
