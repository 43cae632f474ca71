# shellcheck shell=bash
# Shared by scripts/tools/ensure-*.sh (sourced, not run). Each ensure script installs one
# tool the deploy checks need into $TOOLS_DIR (outside the repo, cached across runs), is
# idempotent, serialises concurrent callers with flock, and prints the tool's path on stdout.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE_DIR="${TIDEWAY_CACHE:-$HOME/.cache/tideway}"
TOOLS_DIR="$CACHE_DIR/tools"

tool_say() { printf '[tools] %s\n' "$*" >&2; }
tool_die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

# with_lock NAME: hold an exclusive lock for the rest of the calling script.
with_lock() {
  mkdir -p "$TOOLS_DIR"
  exec 7>"$TOOLS_DIR/.lock-$1"
  flock -w 1200 7 || tool_die "timed out waiting for another install of $1 ($TOOLS_DIR/.lock-$1)"
}

# Go builds land in the cache too (module and build caches), never in the repo or ~/go.
go_env() {
  # The Go toolchain's usual place, for shells whose PATH lacks it.
  command -v go >/dev/null || { [[ -x /usr/local/go/bin/go ]] && PATH="$PATH:/usr/local/go/bin"; }
  command -v go >/dev/null || tool_die "go not found (needed to build $1; install Go 1.22+)"
  export GOPATH="$CACHE_DIR/go" GOMODCACHE="$CACHE_DIR/go/pkg/mod" GOCACHE="$CACHE_DIR/go/build-cache" GOFLAGS=-mod=mod
  export CGO_ENABLED=0
}

# java_app_classpath NAME SRC_DIR MAIN_JAVA WHAT: the class path of a Java program of the test kit
# or the benchmarks (SRC_DIR/pom.xml's runtime jars from Maven Central plus SRC_DIR/MAIN_JAVA compiled
# against them), built into $TOOLS_DIR/NAME/<hash of both files> once and printed; built again when
# either changes. MAIN_JAVA may be a space-separated list of sources, or empty for the jars alone
# (a peer that is a pom.xml and its configuration, such as Kafka Connect with a connector).
# A SRC_DIR/settings.xml, when present, is Maven's settings for that build (e.g. a mirror).
java_app_classpath() {
  local name=$1 src=$2 main=$3 what=$4 hash home sources=() settings_file='' f
  for f in $main; do sources+=("$src/$f"); done
  if [[ -e $src/settings.xml ]]; then settings_file=$src/settings.xml; fi
  hash=$(cat "$src/pom.xml" ${settings_file:+"$settings_file"} "${sources[@]}" | sha256sum | cut -c1-12)
  home="$TOOLS_DIR/$name/$hash"
  if [[ ! -e $home/built ]]; then
    with_lock "$name"
    if [[ ! -e $home/built ]]; then
      command -v mvn >/dev/null || tool_die "mvn not found (apt-get install -y maven)"
      command -v javac >/dev/null || tool_die "javac not found (a JDK 17 or newer is needed)"
      tool_say "fetching $what${main:+ and compiling $main} into $home"
      rm -rf "$home" && mkdir -p "$home/classes"
      mvn -B -q -ntp ${settings_file:+-s "$settings_file"} -f "$src/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/libs" >&2
      if ((${#sources[@]})); then javac -d "$home/classes" -cp "$home/libs/*" "${sources[@]}" >&2; fi
      touch "$home/built"
    fi
  fi
  echo "$home/classes:$home/libs/*"
}
