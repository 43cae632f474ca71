# shellcheck shell=bash
# Shared definitions for scripts/containers/*.sh (sourced, not run).
# A private Docker engine for the container checks: its own socket, state and network range,
# so it never touches another engine on the machine. Images and the build cache persist in
# $CONTAINERS_CACHE/docker between runs; everything else is under $DOCKERD_RUN.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONTAINERS_SCRIPTS="$REPO_ROOT/scripts/containers"
CACHE_DIR="${TIDEWAY_CACHE:-$HOME/.cache/tideway}"
CONTAINERS_CACHE="$CACHE_DIR/containers"
# Short: containerd's socket paths under the exec root must stay below the unix socket limit.
DOCKERD_RUN="${TIDEWAY_DOCKERD_RUN:-/run/tideway-docker}"
DOCKERD_DATA="$CONTAINERS_CACHE/docker"
export DOCKER_HOST="unix://$DOCKERD_RUN/docker.sock"
# Debian's client; a newer client found first on PATH may refuse the engine's builder.
DOCKER_BIN="${DOCKER_BIN:-/usr/bin/docker}"
# Networks compose creates come from this range (away from the usual 172.17-31 ranges).
DOCKERD_ADDRESS_POOL="${TIDEWAY_DOCKERD_ADDRESS_POOL:-10.201.0.0/16}"

say() { printf '[containers] %s\n' "$*" >&2; }
die() { printf '[containers] ERROR: %s\n' "$*" >&2; exit 1; }

docker() { "$DOCKER_BIN" "$@"; }

# Debian packages the engine and the tools need (installed when missing; root only).
ensure_container_tools() {
  local missing=() p
  [[ -x /usr/sbin/dockerd && -x /usr/bin/docker ]] || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing: ${missing[*]} (apt-get install -y ${missing[*]})"
  say "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } ||
    die "could not install ${missing[*]}"
  for p in dockerd docker debootstrap; do command -v "$p" >/dev/null || [[ -x /usr/sbin/$p ]] || die "$p still missing"; done
}

dockerd_running() { docker version >/dev/null 2>&1; }

# Start the private engine (one per machine at a time: the data root is locked by dockerd).
dockerd_start() {
  dockerd_running && return 0
  mkdir -p "$DOCKERD_RUN" "$DOCKERD_DATA"
  say "starting dockerd (socket $DOCKERD_RUN/docker.sock, data $DOCKERD_DATA)"
  # No iptables rules, no default bridge: builds use the host's network, compose makes its own.
  setsid /usr/sbin/dockerd \
    -H "$DOCKER_HOST" \
    --data-root "$DOCKERD_DATA" \
    --exec-root "$DOCKERD_RUN/exec" \
    --pidfile "$DOCKERD_RUN/dockerd.pid" \
    --iptables=false --ip-masq=false --bridge=none \
    --default-address-pool "base=$DOCKERD_ADDRESS_POOL,size=24" \
    </dev/null >"$DOCKERD_RUN/dockerd.log" 2>&1 &
  echo $! >"$DOCKERD_RUN/dockerd.launch.pid"
  local i
  for i in $(seq 1 120); do
    dockerd_running && { say "dockerd up"; return 0; }
    kill -0 "$(cat "$DOCKERD_RUN/dockerd.launch.pid")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 30 "$DOCKERD_RUN/dockerd.log" >&2
  die "dockerd did not start"
}

# Stop the engine this script started (by its pid file only), waiting for it to exit.
dockerd_stop() {
  local pid i
  pid=$(cat "$DOCKERD_RUN/dockerd.pid" 2>/dev/null || cat "$DOCKERD_RUN/dockerd.launch.pid" 2>/dev/null || true)
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || { rm -f "$DOCKERD_RUN"/dockerd*.pid; return 0; }
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "dockerd (pid $pid) still running after 30s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DOCKERD_RUN"/dockerd*.pid
  # dockerd leaves its default network namespace mounted.
  if mountpoint -q "$DOCKERD_RUN/exec/netns/default" 2>/dev/null; then umount "$DOCKERD_RUN/exec/netns/default" || true; fi
}

# image_has_label IMAGE KEY VALUE : the image exists and carries label KEY=VALUE.
image_has_label() {
  [[ $(docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null) == "$3" ]]
}
