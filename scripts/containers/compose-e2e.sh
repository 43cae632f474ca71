#!/usr/bin/env bash
# docker-compose.yml end to end on the private engine (scripts/containers/test.sh runs it; the
# images come from base-images.sh and the Dockerfile, tagged with the names the file uses):
#   up -d with every host port moved to a free one (TIDEWAY_*_PORT), every service healthy,
#   the demo generator writing, its transactions read back through kinesis-api's published port, its graceful stop, then the native demo's checks
#   (scripts/containers/demo-checks.cjs) from a one-shot container in the compose network.
#   --down   remove the project this script started (containers, network, volumes)
# Grafana is not started: its image cannot be made here (docs/deploy.md).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOGS="$REPO_ROOT/.stack/containers"
STATE="$LOGS/compose-project"
mkdir -p "$LOGS"
# Debian's docker-compose 1.29 predates the top-level `name:` (the project name is given with -p):
# it runs a copy of docker-compose.yml without that one line, from the repository's directory.
COMPOSE_FILE_RUN="$LOGS/docker-compose.run.yml"
grep -v '^name:' "$REPO_ROOT/docker-compose.yml" >"$COMPOSE_FILE_RUN"
compose() { docker-compose -p "$PROJECT" --project-directory "$REPO_ROOT" -f "$COMPOSE_FILE_RUN" "$@"; }

if [[ ${1:-} == --down ]]; then
  [[ -s $STATE ]] || exit 0
  PROJECT=$(<"$STATE")
  compose logs --no-color >"$LOGS/compose.log" 2>&1 || true
  compose down -v --remove-orphans -t 30 >&2
  rm -f "$STATE"
  exit 0
fi

PROJECT="tideway-ct-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
echo "$PROJECT" >"$STATE"
# Free host ports (the native stack may hold the defaults).
read -r -a ports < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(16)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
i=0
for v in KAFKA POSTGRES KINESIS MOTO S3 SEAWEEDFS_FILER CDC_METRICS DWH_LOADER_METRICS ALERTING_METRICS BRIDGE_METRICS KINESIS_API KINESIS_API_METRICS DEMO_METRICS PROMETHEUS GRAFANA OPENSEARCH; do
  export "TIDEWAY_${v}_PORT=${ports[i]}"
  i=$((i + 1))
done
SERVICES=(kafka postgres kinesis moto seaweedfs aws-setup cdc dwh-loader alerting bridge kinesis-api demo prometheus)
T0=$SECONDS
say "compose project $PROJECT: up ${SERVICES[*]}"
compose up -d --no-build "${SERVICES[@]}" >"$LOGS/compose-up.log" 2>&1 || { cat "$LOGS/compose-up.log"; die "docker-compose up failed"; }

# Every long-running service healthy; aws-setup exited 0.
deadline=$((SECONDS + ${COMPOSE_HEALTH_TIMEOUT_S:-600}))
while :; do
  pending=()
  for s in "${SERVICES[@]}"; do
    id=$(compose ps -q "$s")
    if [[ $s == aws-setup ]]; then
      [[ $(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id") == "exited 0" ]] || pending+=("$s")
    else
      [[ $(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id") == healthy ]] || pending+=("$s")
    fi
  done
  ((${#pending[@]} == 0)) && break
  if ((SECONDS > deadline)); then
    compose ps >&2
    for s in "${pending[@]}"; do echo "---- $s" >&2; compose logs --no-color --tail 30 "$s" >&2; done
    die "not healthy after ${COMPOSE_HEALTH_TIMEOUT_S:-600}s: ${pending[*]}"
  fi
  sleep 5
done
say "every service healthy after $((SECONDS - T0))s"
# Published ports answer on the host too.
curl -fsS "http://127.0.0.1:$TIDEWAY_CDC_METRICS_PORT/readyz" >/dev/null || die "cdc's published /readyz (127.0.0.1:$TIDEWAY_CDC_METRICS_PORT) does not answer"
curl -fsS "http://127.0.0.1:$TIDEWAY_PROMETHEUS_PORT/-/ready" >/dev/null || die "Prometheus's published port does not answer"

psql_app() { compose exec -T postgres psql -U postgres -d app -tAc "$1"; }
deadline=$((SECONDS + 180))
until [[ $(psql_app 'select count(*) from public.transactions' 2>/dev/null | tr -d '[:space:]') -gt 0 ]]; do
  ((SECONDS < deadline)) || die "the demo generator wrote no transaction in 180s"
  sleep 3
done
sleep 20 # let the generator run a little longer (some claims and policy updates too)
compose stop -t 30 demo >&2
demo_id=$(compose ps -q demo)
[[ $(docker inspect -f '{{.State.ExitCode}}' "$demo_id") == 0 ]] || die "the demo generator did not exit 0 on SIGTERM"
docker logs "$demo_id" 2>&1 | grep -q '"msg":"stopped"' || die "the demo generator did not log 'stopped'"
say "demo generator ran and stopped gracefully ($(psql_app 'select count(*) from public.transactions' | tr -d '[:space:]') transactions)"

checks() {
  docker run --rm --network "${PROJECT}_default" -v "$REPO_ROOT:/repo:ro" -w /repo \
    -e KAFKA_BROKERS=kafka:9092 -e LOG_LEVEL=warn \
    -e OLTP_URL="postgres://postgres:${POSTGRES_PASSWORD:-tideway}@postgres:5432/app" \
    -e WAREHOUSE_URL="postgres://postgres:${POSTGRES_PASSWORD:-tideway}@postgres:5432/warehouse" \
    -e AWS_REGION=us-east-1 -e AWS_ACCESS_KEY_ID=test -e AWS_SECRET_ACCESS_KEY=test \
    -e AWS_ENDPOINT_URL_KINESIS=http://kinesis:4568 -e AWS_ENDPOINT_URL_S3=http://moto:5000 \
    -e FIREHOSE_S3_ENDPOINT=http://moto:5000 -e LAKE_S3_ENDPOINT=http://seaweedfs:8333 \
    -e CHECK_DEADLINE_S="${CHECK_DEADLINE_S:-300}" \
    "node:$(sed -n 's/^ARG NODE_VERSION=//p' "$REPO_ROOT/Dockerfile")-bookworm-slim" node scripts/containers/demo-checks.cjs "$@"
}
rm -f "$LOGS/demo-checks.log"
t=$SECONDS
settled=$(checks settle) || { echo "$settled" >&2; die "the warehouse did not catch up with the source"; }
before=$(node -p 'JSON.parse(process.argv[1]).events' "$settled")
say "the warehouse equals the source after $((SECONDS - t))s ($before change events so far)"
# A Kinesis application on the host reads the demo's transactions through kinesis-api (AWS SDK, published port).
api_check=$(cd "$REPO_ROOT" && node scripts/containers/kinesis-api-check.cjs "http://127.0.0.1:$TIDEWAY_KINESIS_API_PORT" transactions.changes 2>&1) ||
  { echo "$api_check" >&2; die "kinesis-api (127.0.0.1:$TIDEWAY_KINESIS_API_PORT) did not serve transactions.changes"; }
say "kinesis-api: $api_check"
# A bounded run of the same generator: its change count is known, so "every change captured" is exact.
N=${COMPOSE_DEMO_CHANGES:-300}
compose run --rm -e DEMO_MAX_CHANGES="$N" -e DEMO_RATE=50 -e DEMO_ID_PREFIX=check demo >"$LOGS/demo-run.log" 2>&1 ||
  { tail -n 20 "$LOGS/demo-run.log" >&2; die "the bounded demo run failed"; }
say "bounded demo run wrote $N changes; checking every destination"
t=$SECONDS
rc=0
checks final "$((before + N))" >"$LOGS/demo-checks.log" || rc=$?
cat "$LOGS/demo-checks.log"
((rc == 0)) || die "the demo's checks failed"
say "every destination checked after $((SECONDS - t))s (compose end to end: $((SECONDS - T0))s)"
