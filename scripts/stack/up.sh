#!/usr/bin/env bash
# Start the local stack (idempotent): Kafka (KRaft), PostgreSQL, kinesis-mock, moto, OpenSearch.
#   npm run stack:up                  all parts
#   bash scripts/stack/up.sh kafka    only the parts named
#   bash scripts/stack/up.sh --fetch-only   only fill the download cache (start nothing)
# Each part is waited for until it answers a real request; on failure the tail
# of its log (.stack/logs/PART.log) is printed and the script exits non-zero.
# Downloads (Kafka and OpenSearch jars via mvn, the moto venv, PostgreSQL via apt-get when
# missing) are cached in ${TIDEWAY_CACHE:-$HOME/.cache/tideway}.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fetch_only=false
parts=()
for a in "$@"; do
  case $a in
    --fetch-only) fetch_only=true ;; # download/install into the cache, start nothing
    *) parts+=("$a") ;;
  esac
done
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
for p in "${parts[@]}"; do
  [[ " ${ALL_PARTS[*]} " == *" $p "* ]] || die "unknown part '$p' (parts: ${ALL_PARTS[*]})"
done

mkdir -p "$STACK_DIR" "$RUN_DIR" "$LOG_DIR" "$CACHE_DIR"
# One `up`/`down` at a time per checkout.
exec 9>"$LOCK_FILE"
flock -w 900 9 || die "another stack:up/stack:down is still running (lock $LOCK_FILE)"

T0=$SECONDS
command -v node >/dev/null || die "node not found"
[[ -d $REPO_ROOT/node_modules/kafkajs && -d $REPO_ROOT/node_modules/kinesis-local ]] ||
  die "node_modules is missing or incomplete: run 'npm ci' first"

# ---------------------------------------------------------------------------
# readiness checks (one real request each)
pg_psql() { "$PG_BIN/psql" -h "$BIND_HOST" -p "$PG_PORT" -U postgres -X -A -t -q "$@"; }
ready_check() {
  case $1 in
    kafka) port_open "$KAFKA_PORT" && probe kafka ;;
    postgres) port_open "$PG_PORT" && PGCONNECT_TIMEOUT=3 pg_psql -d postgres -c 'select 1' >/dev/null ;;
    kinesis) port_open "$KINESIS_PORT" && probe kinesis ;;
    moto) port_open "$MOTO_PORT" && probe moto ;;
    opensearch) port_open "$OPENSEARCH_PORT" && probe opensearch ;;
  esac
}
part_port() {
  case $1 in kafka) echo "$KAFKA_PORT" ;; postgres) echo "$PG_PORT" ;; kinesis) echo "$KINESIS_PORT" ;; moto) echo "$MOTO_PORT" ;; opensearch) echo "$OPENSEARCH_PORT" ;; esac
}
PG_BIN=$(pg_bindir || true)
after_postgres_ready() {
  local db
  for db in app warehouse; do
    if [[ -z $(pg_psql -d postgres -c "select 1 from pg_database where datname = '$db'") ]]; then
      pg_psql -d postgres -c "create database $db" || fail_part postgres "could not create database $db"
    fi
  done
}

# ---------------------------------------------------------------------------
# Fast path: everything asked for is running and answers -> nothing to do.
to_start=()
running=()
for p in "${parts[@]}"; do
  if ! $fetch_only && part_pid "$p" >/dev/null; then running+=("$p"); else to_start+=("$p"); fi
done
# A part this checkout did not start, but whose port answers the real readiness request, is
# used as it is: e.g. the stack of another checkout on the same machine (CI's fresh clone next
# to a developer's running stack). Only a port held by something that does not answer is an error.
external=()
if ! $fetch_only && ((${#to_start[@]})); then
  rest=()
  for p in "${to_start[@]}"; do
    if port_open "$(part_port "$p")" && [[ $p != postgres || -n $PG_BIN ]] && ready_check "$p" >/dev/null 2>&1; then
      external+=("$p")
    else
      rest+=("$p")
    fi
  done
  to_start=(${rest[@]+"${rest[@]}"})
fi
for p in ${external[@]+"${external[@]}"}; do
  say "$p: 127.0.0.1:$(part_port "$p") is served by a process this checkout did not start; using it"
  [[ $p == postgres ]] && after_postgres_ready
done
if ((${#to_start[@]} == 0)); then
  node_parts=()
  pg_ok=true
  for p in ${running[@]+"${running[@]}"}; do
    if [[ $p == postgres ]]; then ready_check postgres || pg_ok=false; else node_parts+=("$p"); fi
  done
  if $pg_ok && { ((${#node_parts[@]} == 0)) || probe "${node_parts[@]}" >/dev/null 2>&1; }; then
    say "already up: ${parts[*]} ($((SECONDS - T0))s)"
    exit 0
  fi
fi

# ---------------------------------------------------------------------------
# prepare: downloads / installs, run in parallel for the parts that need them.

prepare_kafka() {
  command -v java >/dev/null || { echo "java not found (need Java 17+: apt-get install -y openjdk-17-jre-headless)"; return 1; }
  kafka_fetch "$(kafka_home)"
}

prepare_opensearch() {
  command -v java >/dev/null || { echo "java not found (need Java 17+: apt-get install -y openjdk-17-jre-headless)"; return 1; }
  opensearch_fetch "$(opensearch_home)"
}

moto_home() {
  local h
  h=$(sha256sum "$MOTO_REQUIREMENTS" | cut -c1-12)
  echo "$CACHE_DIR/moto/$h"
}
prepare_moto() {
  local home
  home=$(moto_home)
  [[ -f $home/.complete ]] && return 0
  command -v python3 >/dev/null || { echo "python3 not found"; return 1; }
  mkdir -p "$home"
  exec 8>"$home.lock"
  flock -w 900 8
  [[ -f $home/.complete ]] && return 0
  echo "installing moto (pinned in ${MOTO_REQUIREMENTS#"$REPO_ROOT"/}) into $home/venv"
  rm -rf "$home/venv"
  python3 -m venv "$home/venv"
  "$home/venv/bin/pip" install -q --disable-pip-version-check -r "$MOTO_REQUIREMENTS"
  "$home/venv/bin/moto_server" --help >/dev/null
  touch "$home/.complete"
}

prepare_postgres() {
  [[ -n $PG_BIN ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install them: sudo apt-get install -y postgresql"
    return 1
  fi
  echo "PostgreSQL not found: installing Debian's postgresql-$POSTGRES_MAJOR package (no default cluster is created)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends postgresql-common
  # Like the official postgres image: no 'main' cluster on 5432 - the stack runs its own.
  sed -ri 's/^#?\s*(create_main_cluster)\s*=.*$/\1 = false/' /etc/postgresql-common/createcluster.conf
  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "postgresql-$POSTGRES_MAJOR"
}

declare -A prep_pid=()
for p in "${to_start[@]}"; do
  if declare -F "prepare_$p" >/dev/null; then
    ("prepare_$p") >>"$LOG_DIR/$p-setup.log" 2>&1 &
    prep_pid[$p]=$!
  fi
done
for p in "${!prep_pid[@]}"; do
  if ! wait "${prep_pid[$p]}"; then
    printf '[stack] ERROR: %s: setup failed\n' "$p" >&2
    printf '[stack] ---- last 40 lines of .stack/logs/%s-setup.log ----\n' "$p" >&2
    tail -n 40 "$LOG_DIR/$p-setup.log" >&2
    exit 1
  fi
done
[[ -n $PG_BIN ]] || PG_BIN=$(pg_bindir || true)
if ((${#prep_pid[@]})); then say "setup done ($((SECONDS - T0))s)"; fi
if $fetch_only; then
  say "fetched into $CACHE_DIR: ${parts[*]} ($((SECONDS - T0))s)"
  exit 0
fi

# ---------------------------------------------------------------------------
# start

start_kafka() {
  local dir="$STACK_DIR/kafka"
  kafka_write_config "$dir" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  # A data dir written by another Kafka version is wiped (downgrades do not work).
  if [[ -f $dir/data/meta.properties && "$(cat "$dir/version" 2>/dev/null)" != "$KAFKA_VERSION" ]]; then
    say "kafka: data dir was made by Kafka $(cat "$dir/version" 2>/dev/null || echo '?'): wiping it for $KAFKA_VERSION"
    rm -rf "$dir/data"
  fi
  kafka_jvm "$LOG_DIR"
  kafka_format "$dir" "$LOG_DIR/kafka.log" || fail_part kafka "kafka-storage format failed"
  start_bg kafka "$dir" "${KAFKA_JVM[@]}" kafka.Kafka "$dir/server.properties"
}

start_postgres() {
  [[ -n $PG_BIN ]] || fail_part postgres "PostgreSQL binaries not found"
  local user root
  user=$(pg_os_user)
  if [[ $(id -u) -eq 0 ]] && ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$user"
  fi
  # .stack/pg must be reachable by $user; when the checkout is not (e.g. under a
  # 0700 home), the real directory goes to /var/tmp and .stack/pg links to it.
  if [[ ! -e $STACK_DIR/pg ]]; then
    mkdir -p "$STACK_DIR/pg"
    [[ $(id -u) -eq 0 ]] && chown "$user:" "$STACK_DIR/pg"
    if ! as_pg_user test -w "$STACK_DIR/pg"; then
      rm -rf "$STACK_DIR/pg"
      root="/var/tmp/tideway-pg-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
      say "postgres: $user cannot reach $STACK_DIR; keeping its files in $root (linked from .stack/pg)"
      rm -rf "$root" && mkdir -p "$root" && chown "$user:" "$root" && chmod 700 "$root"
      ln -s "$root" "$STACK_DIR/pg"
    fi
  fi
  root=$(readlink -f "$STACK_DIR/pg")
  local data="$root/data" sock="$root/socket"
  as_pg_user mkdir -p "$sock"
  if [[ ! -f $data/PG_VERSION ]]; then
    as_pg_user rm -rf "$data"
    printf '\n==== postgres: initdb %s ====\n' "$data" >>"$LOG_DIR/postgres.log"
    if ! as_pg_user "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-instructions \
      >>"$LOG_DIR/postgres.log" 2>&1; then
      fail_part postgres "initdb failed"
    fi
  fi
  # Settings are rewritten on every start, so edits here apply to an existing data dir.
  as_pg_user tee "$data/tideway.conf" >/dev/null <<EOF
# Written by scripts/stack/up.sh on every start; included from postgresql.conf.
listen_addresses = '$BIND_HOST'
port = $PG_PORT
unix_socket_directories = '$sock'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
fsync = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
EOF
  as_pg_user tee "$data/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/stack/up.sh: trust on loopback only (a local test instance).
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
EOF
  grep -q "^include_if_exists = 'tideway.conf'" "$data/postgresql.conf" ||
    echo "include_if_exists = 'tideway.conf'" | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
  # A postmaster.pid left by a crash is handled by postgres itself.
  if [[ $(id -u) -eq 0 ]]; then
    start_bg postgres / setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
      env HOME=/ "$PG_BIN/postgres" -D "$data"
  else
    start_bg postgres / "$PG_BIN/postgres" -D "$data"
  fi
}

start_kinesis() {
  local dir="$REPO_ROOT/node_modules/kinesis-local"
  [[ -f $dir/main.js && -f $dir/server.json ]] || fail_part kinesis "$dir is missing (npm ci)"
  # kinesis-mock reads server.json (its TLS cert) from its working directory.
  start_bg kinesis "$dir" env \
    KINESIS_MOCK_PLAIN_PORT="$KINESIS_PORT" KINESIS_MOCK_TLS_PORT="$KINESIS_TLS_PORT" \
    TIDEWAY_BIND_HOST="$BIND_HOST" LOG_LEVEL="${KINESIS_LOG_LEVEL:-WARN}" \
    node -r "$STACK_SCRIPTS/loopback-only.cjs" main.js
}

start_moto() {
  local home
  home=$(moto_home)
  mkdir -p "$STACK_DIR/moto"
  start_bg moto "$STACK_DIR/moto" "$home/venv/bin/moto_server" -H "$BIND_HOST" -p "$MOTO_PORT"
}

start_opensearch() {
  local dir="$STACK_DIR/opensearch" root
  opensearch_ensure_user
  # .stack/opensearch must be reachable by the node's user; when the checkout is not (e.g. under a
  # 0700 home), the real directory goes to /var/tmp and .stack/opensearch links to it.
  if [[ ! -e $dir ]]; then
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown tideway-opensearch: "$dir"
    if ! as_opensearch_user test -w "$dir"; then
      rm -rf "$dir"
      root="/var/tmp/tideway-opensearch-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
      say "opensearch: $(opensearch_os_user) cannot reach $STACK_DIR; keeping its files in $root (linked from .stack/opensearch)"
      rm -rf "$root" && mkdir -p "$root" && chmod 755 "$root"
      ln -s "$root" "$dir"
    fi
  fi
  start_bg opensearch / bash "$STACK_SCRIPTS/opensearch-node.sh" "$(readlink -f "$dir")" "$OPENSEARCH_PORT" "$OPENSEARCH_TRANSPORT_PORT"
}

declare -A started_at=()
for p in "${to_start[@]}"; do
  rm -f "$(pid_file "$p")"
  ensure_port_free "$p" "$(part_port "$p")"
  if [[ $p == kafka ]]; then ensure_port_free kafka "$KAFKA_CONTROLLER_PORT"; fi
  if [[ $p == kinesis ]]; then ensure_port_free kinesis "$KINESIS_TLS_PORT"; fi
  if [[ $p == opensearch ]]; then ensure_port_free opensearch "$OPENSEARCH_TRANSPORT_PORT"; fi
  "start_$p"
  started_at[$p]=$SECONDS
done

# wait for every part (already-running ones too: they may still be starting)
for p in "${parts[@]}"; do
  [[ " ${external[*]-} " == *" $p "* ]] && continue
  pid=$(part_pid "$p") || fail_part "$p" "process is not running"
  var="READY_TIMEOUT_${p^^}"
  wait_ready "$p" "$pid" "${!var}" ready_check "$p"
  [[ $p == postgres ]] && after_postgres_ready
  if [[ -n ${started_at[$p]:-} ]]; then
    say "$p ready on $BIND_HOST:$(part_port "$p") (pid $pid, $((SECONDS - started_at[$p]))s after start)"
  else
    say "$p already up (pid $pid)"
  fi
done
say "stack up in $((SECONDS - T0))s"
