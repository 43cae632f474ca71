#!/usr/bin/env bash
# Prints the directory holding `prometheus` and `promtool` from Debian's `prometheus` package.
# The .deb is downloaded with `apt-get download` and unpacked into the cache with dpkg-deb:
# nothing is installed system-wide, so no packaged Prometheus service is ever started
# (the tests run their own Prometheus bound to 127.0.0.1).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

base="$TOOLS_DIR/prometheus"
find_dir() { local d; for d in "$base"/*/usr/bin; do [[ -x $d/promtool && -x $d/prometheus ]] && { echo "$d"; return 0; }; done; return 1; }

if ! dir=$(find_dir); then
  with_lock prometheus
  if ! dir=$(find_dir); then
    command -v apt-get >/dev/null || tool_die "apt-get not found: on a non-Debian machine put promtool and prometheus on PATH and set PROMETHEUS_BIN_DIR"
    version=$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [[ -z $version || $version == "(none)" ]]; then
      tool_say "apt-get update (the prometheus package is not in the local package lists yet)"
      apt-get update -q >&2 || tool_die "apt-get update failed"
      version=$(apt-cache policy prometheus | awk '/Candidate:/ {print $2}')
    fi
    [[ -n $version && $version != "(none)" ]] || tool_die "Debian package 'prometheus' not found"
    tool_say "unpacking Debian's prometheus $version into $base (no system install, no service)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # apt downloads as the _apt user when it can write the directory (no "unsandboxed" warning).
    id _apt >/dev/null 2>&1 && chown _apt "$tmp" 2>/dev/null || true
    (cd "$tmp" && apt-get download -q "prometheus=$version" >&2)
    dest="$base/${version//[^A-Za-z0-9.+-]/_}"
    rm -rf "$dest" && mkdir -p "$dest"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$dest"
    dir=$(find_dir) || tool_die "the package did not contain usr/bin/promtool and usr/bin/prometheus"
  fi
fi
"$dir/promtool" --version >/dev/null 2>&1 || tool_die "$dir/promtool does not run"
echo "$dir"
