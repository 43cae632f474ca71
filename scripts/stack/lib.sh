# shellcheck shell=bash
# Shared definitions for scripts/stack/*.sh (sourced, not run).
# The local stack: Kafka (KRaft), PostgreSQL, kinesis-mock, moto, OpenSearch. No Docker.
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
# OpenSearch: the server's jars and three of its modules (HTTP transport, analysis, painless)
# from Maven Central, assembled into a node home (opensearch_fetch).
OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.6}"
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
OPENSEARCH_PORT=9200
OPENSEARCH_TRANSPORT_PORT=9300

# ---- timeouts (seconds) for a part to become ready --------------------------
READY_TIMEOUT_KAFKA="${READY_TIMEOUT_KAFKA:-120}"
READY_TIMEOUT_POSTGRES="${READY_TIMEOUT_POSTGRES:-60}"
READY_TIMEOUT_KINESIS="${READY_TIMEOUT_KINESIS:-60}"
READY_TIMEOUT_MOTO="${READY_TIMEOUT_MOTO:-60}"
READY_TIMEOUT_OPENSEARCH="${READY_TIMEOUT_OPENSEARCH:-120}"

ALL_PARTS=(kafka postgres kinesis moto opensearch)

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

# ---- OpenSearch (used by up.sh for the shared node and by opensearch-private.sh) ----
opensearch_home() { echo "$CACHE_DIR/opensearch/$OPENSEARCH_VERSION"; }

# opensearch_fetch HOME : a node home (lib/, modules/<name>/ with plugin descriptors, empty bin/
# and plugins/) from Maven Central, once; HOME/.complete marks a whole one. The module jars carry
# no descriptor or security policy (the distribution's build adds them), so they are written here.
opensearch_fetch() {
  local home=$1 v=$OPENSEARCH_VERSION
  [[ -f $home/.complete ]] && return 0
  command -v mvn >/dev/null || { echo "mvn not found (apt-get install -y maven)"; return 1; }
  mkdir -p "$home"
  exec 8>"$home.lock"
  flock -w 900 8
  [[ -f $home/.complete ]] && return 0
  echo "fetching OpenSearch $v jars from Maven Central into $home"
  cat >"$home/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tideway.stack</groupId>
  <artifactId>opensearch-runtime</artifactId>
  <version>$v</version>
  <packaging>pom</packaging>
  <!-- Generated by scripts/stack/lib.sh: the jars of an OpenSearch node without the security plugin. -->
  <dependencies>
    <dependency><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId><version>$v</version></dependency>
    <!-- In the distribution's lib/, not a dependency of the server jar. -->
    <dependency><groupId>org.opensearch</groupId><artifactId>opensearch-plugin-classloader</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>transport-netty4-client</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>analysis-common</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>lang-painless</artifactId><version>$v</version></dependency>
  </dependencies>
</project>
EOF
  local tmp="$home/home.tmp" all="$home/jars.tmp" j m
  rm -rf "$tmp" "$all"
  mvn -B -q -ntp -f "$home/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
    "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$all"
  mkdir -p "$tmp/lib" "$tmp/bin" "$tmp/plugins" "$tmp/modules"/{transport-netty4,analysis-common,lang-painless}
  # Each module's own jars go to its directory (a jar both there and in lib/ fails the jar-hell check).
  mv "$all"/transport-netty4-client-"$v".jar "$all"/netty-*.jar "$tmp/modules/transport-netty4/"
  mv "$all"/analysis-common-"$v".jar "$tmp/modules/analysis-common/"
  mv "$all"/lang-painless-"$v".jar "$all"/opensearch-scripting-painless-spi-"$v".jar "$all"/antlr4-runtime-*.jar \
    "$all"/asm-*.jar "$tmp/modules/lang-painless/"
  mv "$all"/*.jar "$tmp/lib/"
  ls "$tmp/lib/opensearch-$v.jar" "$tmp/lib/opensearch-plugin-classloader-$v.jar" >/dev/null
  for m in "transport-netty4 org.opensearch.transport.Netty4Plugin" \
    "analysis-common org.opensearch.analysis.common.CommonAnalysisPlugin lang-painless" \
    "lang-painless org.opensearch.painless.PainlessPlugin"; do
    set -- $m
    printf 'description=%s module\nversion=%s\nname=%s\nclassname=%s\njava.version=11\nopensearch.version=%s\nextended.plugins=%s\nhas.native.controller=false\n' \
      "$1" "$v" "$1" "$2" "$v" "${3:-}" >"$tmp/modules/$1/plugin-descriptor.properties"
  done
  # The modules' plugin-security.policy, as OpenSearch's sources have them.
  cat >"$tmp/modules/transport-netty4/plugin-security.policy" <<'EOF'
grant {
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.net.SocketPermission "*", "accept,connect";
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
};
EOF
  cat >"$tmp/modules/lang-painless/plugin-security.policy" <<'EOF'
grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
  chmod -R a+rX "$tmp"
  rm -rf "$all" "$home/node" && mv "$tmp" "$home/node"
  touch "$home/.complete"
  echo "opensearch $v: $(ls "$home/node/lib" | wc -l) jars in lib/, modules: $(ls "$home/node/modules" | tr '\n' ' ')"
}

# The OS user the node runs as: ourselves, unless we are root (OpenSearch refuses root).
opensearch_os_user() {
  if [[ $(id -u) -ne 0 ]]; then id -un; else echo tideway-opensearch; fi
}
as_opensearch_user() {
  if [[ $(id -u) -ne 0 ]]; then
    (cd / && "$@")
  else
    (cd / && setpriv --reuid=tideway-opensearch --regid="$(id -g tideway-opensearch)" --init-groups -- env HOME=/ "$@")
  fi
}
opensearch_ensure_user() {
  if [[ $(id -u) -eq 0 ]] && ! id tideway-opensearch >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin tideway-opensearch
  fi
}

# opensearch_runtime_home : prints the node home the node's user can read: the cache's, or (root
# with a cache under a private home) a copy in /var/tmp made once per version.
opensearch_runtime_home() {
  local home node copy
  home=$(opensearch_home)
  node="$home/node"
  if as_opensearch_user test -r "$node/lib/opensearch-$OPENSEARCH_VERSION.jar"; then
    echo "$node"
    return 0
  fi
  copy="/var/tmp/tideway-opensearch/$OPENSEARCH_VERSION"
  if [[ ! -f $copy/.complete ]]; then
    rm -rf "$copy" && mkdir -p "$(dirname "$copy")" && chmod 755 "$(dirname "$copy")"
    cp -a "$node" "$copy" && chmod -R a+rX "$copy" && touch "$copy/.complete"
  fi
  echo "$copy"
}

# opensearch_write_config DIR PORT TRANSPORT_PORT : DIR/config (opensearch.yml, log4j2.properties),
# data and logs in DIR, writable by the node's user.
opensearch_write_config() {
  local dir=$1 port=$2 tport=$3
  mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
  cat >"$dir/config/opensearch.yml" <<EOF
# Written by scripts/stack/lib.sh on every start.
cluster.name: tideway-local
node.name: tideway-local-$port
network.host: $BIND_HOST
http.port: $port
transport.port: $tport
discovery.type: single-node
path.data: $dir/data
path.logs: $dir/logs
# A test machine's disk may be fuller than the default watermarks allow; never block writes for it.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  cp "$STACK_SCRIPTS/opensearch/log4j2.properties" "$dir/config/log4j2.properties"
  if [[ $(id -u) -eq 0 ]]; then chown -R tideway-opensearch: "$dir"; fi
}

# opensearch_jvm DIR : sets OPENSEARCH_JVM to the command line that runs the node of DIR.
opensearch_jvm() {
  local dir=$1 home
  home=$(opensearch_runtime_home)
  OPENSEARCH_JVM=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dfile.encoding=UTF-8 -Djna.nosys=true -Djava.io.tmpdir="$dir/tmp" -Dio.netty.noUnsafe=true
    -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Djava.locale.providers=SPI,COMPAT
    -Dopensearch.path.home="$home" -Dopensearch.path.conf="$dir/config" -Dopensearch.distribution.type=tar
    -Dopensearch.bundled_jdk=false -cp "$home/lib/*" org.opensearch.bootstrap.OpenSearch)
  if [[ $(id -u) -eq 0 ]]; then
    OPENSEARCH_JVM=(setpriv --reuid=tideway-opensearch --regid="$(id -g tideway-opensearch)" --init-groups -- env HOME=/
      "${OPENSEARCH_JVM[@]}")
  fi
}
