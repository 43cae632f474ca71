#!/usr/bin/env bash
# `npm run test:containers`: the Dockerfile and docker-compose.yml built and run for real, on a
# private Docker engine with local stand-in base images (no registry needed):
#   1. stand-in base images (scripts/containers/base-images.sh; cached)
#   2. docker build of the Dockerfile, then checks on the image: the Kafka addon loads, every
#      `tideway <service> --help`, uid 10001, a read-only root filesystem, SIGTERM stops gracefully
#   3. docker-compose.yml end to end (scripts/containers/compose-e2e.sh)
# Everything it starts (dockerd, containers, networks, volumes) is removed at the end, also on failure;
# images and the build cache stay in ~/.cache/tideway/containers for the next run.
# Prints one line per check and ends with `N passed, N failed`; exits non-zero on any failure.
#   TIDEWAY_CONTAINERS_KEEP=1  leave dockerd and the compose project running (debugging)
source "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/node-env.sh"
IMAGE=tideway:local
T0=$SECONDS
passed=0 failed=0 failures=()
LOGS="$REPO_ROOT/.stack/containers"
mkdir -p "$LOGS"
: >"$LOGS/checks.log"

# Each check runs as a background job in its own process group, so that a signal to this script
# stops it at once (bash defers traps while a foreground command runs) and reaches its whole tree.
job=
check() { # name cmd... : one check, PASS/FAIL line; its output goes to $LOGS/checks.log
  local name=$1 t0=$SECONDS rc=0 out="$LOGS/check.out"
  shift
  set -m
  "$@" >"$out" 2>&1 &
  job=$!
  set +m
  wait "$job" || rc=$?
  job=
  { printf '==== %s: exit %s after %ss\n' "$name" "$rc" "$((SECONDS - t0))"; cat "$out"; } >>"$LOGS/checks.log"
  if ((rc == 0)); then
    passed=$((passed + 1))
    printf 'PASS  %s (%ss)\n' "$name" "$((SECONDS - t0))"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL  %s (%ss)\n%s\n' "$name" "$((SECONDS - t0))" "$(tail -n 30 "$out" | sed 's/^/      /')"
  fi
}
stop_job() { # TERM to the running check's process group, KILL after 20s
  [[ -n $job ]] || return 0
  local i
  kill -TERM -- "-$job" 2>/dev/null || return 0
  for i in $(seq 1 200); do kill -0 -- "-$job" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$job" 2>/dev/null || true
  wait "$job" 2>/dev/null || true
  job=
}

started_dockerd=false
cleanup() {
  local rc=$?
  if [[ ${TIDEWAY_CONTAINERS_KEEP:-0} != 1 ]]; then
    bash "$CONTAINERS_SCRIPTS/compose-e2e.sh" --down >/dev/null 2>&1 || true
    if $started_dockerd; then
      docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
      # Networks and volumes would outlive dockerd in its data root. (Untagged images stay: the
      # classic builder's layer cache is made of them.)
      docker network prune -f >/dev/null 2>&1 || true
      docker volume prune -f >/dev/null 2>&1 || true
      dockerd_stop
    fi
  fi
  echo
  echo "test:containers: $((SECONDS - T0))s; logs in ${LOGS#"$REPO_ROOT"/}/"
  ((rc == 130)) && echo "INTERRUPTED (everything started was removed)"
  ((${#failures[@]})) && printf 'FAILED: %s\n' "${failures[@]}"
  echo "$passed passed, $failed failed"
  ((failed == 0 && rc == 0)) || exit 1
  exit 0
}
trap cleanup EXIT
trap 'trap "" INT TERM; say "interrupted: stopping"; stop_job; exit 130' INT TERM

ensure_container_tools
dockerd_running || started_dockerd=true
dockerd_start

check "stand-in base images (scripts/containers/base-images.sh)" bash "$CONTAINERS_SCRIPTS/base-images.sh"
((failed == 0)) || exit 1

build_image() {
  local t0=$SECONDS
  nice -n 10 docker build --network host -t "$IMAGE" "$REPO_ROOT" >"$LOGS/image-build.log" 2>&1 || { tail -n 40 "$LOGS/image-build.log"; return 1; }
  echo "built in $((SECONDS - t0))s"
}
check "docker build of the Dockerfile" build_image
((failed == 0)) || exit 1

# ---- checks on the image ----------------------------------------------------------------------
run_img() { docker run --rm --network none "$@"; }
check "the image runs as uid 10001 (numeric USER, not root)" bash -c '
  [[ $("$0" image inspect -f "{{.Config.User}}" '"$IMAGE"') == 10001:10001 ]] &&
  [[ $("$0" run --rm --network none --entrypoint id '"$IMAGE"' -u) == 10001 ]]' "$DOCKER_BIN"
addon() {
  run_img --read-only --entrypoint node "$IMAGE" -e "const k = require('@confluentinc/kafka-javascript'); console.log(k.librdkafkaVersion); process.exit(typeof k.KafkaJS === 'object' ? 0 : 1)"
}
check "require('@confluentinc/kafka-javascript') works on a read-only root filesystem" addon
for svc in cdc dwh-loader alerting bridge kinesis-api demo; do
  check "tideway $svc --help (read-only root filesystem)" bash -c '
    out=$("$0" run --rm --network none --read-only '"$IMAGE"' '"$svc"' --help) && grep -q KAFKA_BROKERS <<<"$out"' "$DOCKER_BIN"
done

# A running service on a read-only root filesystem (as compose runs it), stopped with SIGTERM:
# exit 0 and the runtime's "stopped" line (the time it took is logged, not checked).
sigterm_check() {
  local name="tideway-sigterm-$$" code logs
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --network none --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges:true \
    -e KAFKA_BROKERS=127.0.0.1:9 -e SHUTDOWN_TIMEOUT_MS=10000 -v "$REPO_ROOT/deploy/compose/tideway/fraud-rules.yaml:/etc/tideway/rules.yaml:ro" \
    -e ALERTING_RULES=/etc/tideway/rules.yaml "$IMAGE" alerting >/dev/null
  # Running: its metrics server answers (Kafka is unreachable, so it keeps retrying).
  local i
  for i in $(seq 1 60); do
    docker exec "$name" node -e "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" 2>/dev/null && break
    sleep 1
  done
  ((i < 60)) || { docker logs "$name" 2>&1 | tail -n 20; docker rm -f "$name" >/dev/null; return 1; }
  echo "/healthz answered after ${i}s"
  local t0=$SECONDS
  docker kill --signal TERM "$name" >/dev/null
  code=$(timeout 60 docker wait "$name")
  logs=$(docker logs "$name" 2>&1)
  docker rm -f "$name" >/dev/null
  echo "exit code $code, $((SECONDS - t0))s after SIGTERM"
  echo "$logs"
  [[ $code == 0 ]] && grep -q '"msg":"stopped"' <<<"$logs" || { tail -n 20 <<<"$logs"; return 1; }
}
check "SIGTERM stops a running service gracefully (exit 0, 'stopped' logged) on a read-only root filesystem" sigterm_check

# ---- compose end to end ----------------------------------------------------------------------
if [[ ${TIDEWAY_CONTAINERS_SKIP_COMPOSE:-0} != 1 ]]; then
  check "docker-compose.yml end to end (scripts/containers/compose-e2e.sh)" bash "$CONTAINERS_SCRIPTS/compose-e2e.sh"
  [[ -s $LOGS/demo-checks.log ]] && sed 's/^/      /' "$LOGS/demo-checks.log"
fi
