# shellcheck shell=bash
# Shared definitions for scripts/stack/*.sh (sourced, not run).
# The local stack: Kafka (KRaft), PostgreSQL, kinesis-mock, moto. No Docker.
# Everything runtime lives under $STACK_DIR (<repo>/.stack); downloads are cached in $CACHE_DIR.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_SCRIPTS="$REPO_ROOT/scripts/stack"
STACK_DIR="$REPO_ROOT/.stack"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
# Held (flock, fd 9) by up.sh/down.sh for their whole run; start_bg closes fd 9 for servers.
LOCK_FILE="$STACK_DIR/stack.lock"
CACHE_DIR="${TIDEWAY_CACHE:-$HOME/.cache/tideway}"

# ---- versions (override from the environment to try another) ----------------
# Newest Kafka release, checked with kafkajs 2.2.4 by scripts/stack/kafka-compat-check.js
# (docs/stack.md says what was tried).
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_SCALA_VERSION="${KAFKA_SCALA_VERSION:-2.13}"
LOG4J_VERSION="${LOG4J_VERSION:-2.25.4}"
SLF4J_VERSION="${SLF4J_VERSION:-2.0.17}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# PostgreSQL: Debian bookworm's server (the major its postgresql package installs).
POSTGRES_MAJOR="${POSTGRES_MAJOR:-15}"
# moto is pinned by scripts/stack/moto-requirements.txt (moto[server] plus its resolved deps).
MOTO_REQUIREMENTS="$STACK_SCRIPTS/moto-requirements.txt"

# ---- ports (all bound to 127.0.0.1 only) ------------------------------------
BIND_HOST=127.0.0.1
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
PG_PORT=55432
KINESIS_PORT=4568
KINESIS_TLS_PORT=4567
MOTO_PORT=5000

# ---- timeouts (seconds) for a part to become ready --------------------------
READY_TIMEOUT_KAFKA="${READY_TIMEOUT_KAFKA:-120}"
READY_TIMEOUT_POSTGRES="${READY_TIMEOUT_POSTGRES:-60}"
READY_TIMEOUT_KINESIS="${READY_TIMEOUT_KINESIS:-60}"
READY_TIMEOUT_MOTO="${READY_TIMEOUT_MOTO:-60}"

ALL_PARTS=(kafka postgres kinesis moto)

# ---- output -----------------------------------------------------------------
say() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Print the tail of a part's log to stderr (used on every failure).
show_log_tail() {
  local part=$1 lines=${2:-40} f="$LOG_DIR/$1.log"
  if [[ -s $f ]]; then
    printf '[stack] ---- last %s lines of %s ----\n' "$lines" "${f#"$REPO_ROOT"/}" >&2
    tail -n "$lines" "$f" >&2
    printf '[stack] ---- end of %s ----\n' "${f#"$REPO_ROOT"/}" >&2
  else
    printf '[stack] (no log at %s)\n' "${f#"$REPO_ROOT"/}" >&2
  fi
}
fail_part() { # part message
  printf '[stack] ERROR: %s: %s\n' "$1" "$2" >&2
  show_log_tail "$1"
  exit 1
}

# ---- processes --------------------------------------------------------------
pid_file() { echo "$RUN_DIR/$1.pid"; }
pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
part_pid() { # prints the pid if the part's recorded process is alive
  local f pid
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  pid_alive "$pid" || return 1
  echo "$pid"
}

# start_bg PART WORKDIR CMD... : run CMD detached (own session, no stdin) with
# stdout+stderr appended to .stack/logs/PART.log, pid in .stack/run/PART.pid.
start_bg() {
  local part=$1 workdir=$2; shift 2
  local log="$LOG_DIR/$part.log" pidf
  pidf=$(pid_file "$part")
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  printf '\n==== %s: starting %s at %s ====\n' "$part" "$*" "$(date -Is)" >>"$log"
  rm -f "$pidf"
  # `exec` keeps the recorded pid = the real server process.
  setsid bash -c 'echo $$ >"$1"; cd "$2" || exit 1; shift 2; exec "$@"' _ "$pidf" "$workdir" "$@" \
    </dev/null >>"$log" 2>&1 8>&- 9>&- &  # do not hand the up/down lock (fd 9) to the server
  local i
  for i in $(seq 1 50); do [[ -s $pidf ]] && return 0; sleep 0.1; done
  fail_part "$part" "process did not start"
}

# stop_pid PART PID [SIGNAL:SECONDS ...] : send each signal in turn, waiting up to SECONDS
# for the process to exit; SIGKILL at the end. Default: TERM for 30 s.
stop_pid() {
  local part=$1 pid=$2 step sig secs i
  shift 2
  (($#)) || set -- TERM:30
  for step in "$@"; do
    sig=${step%%:*} secs=${step#*:}
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < secs * 10; i++)); do
      pid_alive "$pid" || return 0
      sleep 0.1
    done
    say "$part (pid $pid) still running ${secs}s after SIG$sig"
  done
  say "$part (pid $pid): SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# ---- readiness --------------------------------------------------------------
port_open() { # port on 127.0.0.1 accepts a TCP connection
  (exec 3<>"/dev/tcp/$BIND_HOST/$1") 2>/dev/null
}

# wait_ready PART PID TIMEOUT CHECK-CMD... : poll CHECK-CMD until it succeeds;
# fail early with the log tail when the process dies, or at the timeout.
wait_ready() {
  local part=$1 pid=$2 timeout=$3; shift 3
  local deadline=$((SECONDS + timeout)) out
  while :; do
    if ! pid_alive "$pid"; then
      fail_part "$part" "process $pid exited before it was ready"
    fi
    if out=$("$@" 2>&1); then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      printf '[stack] last readiness check output: %s\n' "$out" >&2
      fail_part "$part" "not ready after ${timeout}s"
    fi
    sleep 0.5
  done
}

# ---- Kafka (used by up.sh for the shared broker and by kafka-private.sh) --------
kafka_home() { echo "$CACHE_DIR/kafka/$KAFKA_VERSION"; }

# kafka_fetch HOME [--with-tools] : the jars to run kafka.Kafka and kafka.tools.StorageTool, from
# Maven Central into HOME/libs (once; HOME/.complete marks a whole set). --with-tools adds
# kafka-tools (the command-line tools, e.g. BrokerApiVersionsCommand) for the container image.
kafka_fetch() {
  local home=$1 tools=""
  if [[ ${2:-} == --with-tools ]]; then
    tools="
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>kafka-tools-api</artifactId></exclusion></exclusions>
    </dependency>"
  fi
  [[ -f $home/.complete ]] && return 0
  command -v mvn >/dev/null || { echo "mvn not found (apt-get install -y maven)"; return 1; }
  mkdir -p "$home"
  exec 8>"$home.lock"
  flock -w 900 8
  [[ -f $home/.complete ]] && return 0
  echo "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $home"
  cat >"$home/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tideway.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <!-- Generated by scripts/stack/lib.sh: the jars needed to run kafka.Kafka and kafka.tools.StorageTool. -->
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$KAFKA_SCALA_VERSION</artifactId><version>$KAFKA_VERSION</version>
      <!-- kafka-tools-api (interfaces for the console tools) is not used by the broker or the
           storage tool, and its 4.4.0 jar is missing from Maven Central. -->
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>kafka-tools-api</artifactId></exclusion></exclusions>
    </dependency>$tools
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$home/libs.tmp"
  mvn -B -q -ntp -f "$home/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
    "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$home/libs.tmp"
  ls "$home"/libs.tmp/kafka_"$KAFKA_SCALA_VERSION"-*.jar >/dev/null
  rm -rf "$home/libs" && mv "$home/libs.tmp" "$home/libs"
  touch "$home/.complete"
  echo "kafka $KAFKA_VERSION: $(ls "$home/libs" | wc -l) jars"
}

# kafka_write_config DIR PORT CONTROLLER_PORT : DIR/server.properties from the template,
# data in DIR/data, listeners on 127.0.0.1:PORT (controller CONTROLLER_PORT).
kafka_write_config() {
  local dir=$1 port=$2 cport=$3
  mkdir -p "$dir"
  sed -e "s|@LOG_DIRS@|$dir/data|" -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" \
    "$STACK_SCRIPTS/kafka/server.properties" >"$dir/server.properties"
}

# kafka_jvm LOGS_DIR : sets KAFKA_JVM to the java command line (before the main class).
kafka_jvm() {
  KAFKA_JVM=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true -Dlog4j2.configurationFile="$STACK_SCRIPTS/kafka/log4j2.properties"
    -Dkafka.logs.dir="$1" -cp "$(kafka_home)/libs/*")
}

# kafka_format DIR LOG : formats DIR/data (written by kafka_write_config) with a random cluster
# id unless it is formatted already; StorageTool output goes to LOG. Needs KAFKA_JVM.
kafka_format() {
  local dir=$1 log=$2 cluster_id
  [[ -f $dir/data/meta.properties ]] && return 0
  # Never starting with "-", which the tool's argument parser would read as an option (Kafka's own
  # Uuid.randomUuid() avoids it for the same reason).
  cluster_id=$(python3 -c 'import base64,uuid
while True:
    u = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not u.startswith("-"): break
print(u)')
  printf '\n==== kafka: formatting %s (cluster %s) ====\n' "$dir/data" "$cluster_id" >>"$log"
  "${KAFKA_JVM[@]}" -Xms64m kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >>"$log" 2>&1 || return 1
  echo "$KAFKA_VERSION" >"$dir/version"
}

# The real-request probes live in probe.js (kafkajs / AWS SDK, from node_modules).
probe() { node "$STACK_SCRIPTS/probe.js" "$@"; }

# Refuse to start when something else already holds our port.
ensure_port_free() { # part port
  if port_open "$2"; then
    die "$1: port $BIND_HOST:$2 is already in use by a process this stack did not start (see: ss -ltnp 'sport = :$2')"
  fi
}

# ---- PostgreSQL helpers -----------------------------------------------------
pg_bindir() {
  local d
  if command -v pg_ctl >/dev/null 2>&1; then
    d=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    if [[ -x $d/initdb && -x $d/postgres && -x $d/psql ]]; then
      echo "$d"
      return 0
    fi
  fi
  # Debian keeps the server binaries out of PATH; POSTGRES_MAJOR first, else the newest major.
  for d in "/usr/lib/postgresql/$POSTGRES_MAJOR/bin" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [[ -x $d/initdb && -x $d/postgres && -x $d/psql ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

# The OS user PostgreSQL runs as: ourselves, unless we are root (PostgreSQL refuses root).
pg_os_user() {
  if [[ $(id -u) -ne 0 ]]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    echo tideway-pg
  fi
}

# Run a command as the PostgreSQL OS user (from / so an unreadable cwd does not matter).
as_pg_user() {
  local u
  u=$(pg_os_user)
  if [[ $(id -u) -ne 0 ]]; then
    (cd / && "$@")
  else
    (cd / && setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- env HOME=/ "$@")
  fi
}

PG_DATA="$STACK_DIR/pg/data"
PG_SOCKET_DIR="$STACK_DIR/pg/socket"
