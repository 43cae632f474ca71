#!/usr/bin/env bash
# Prints the path of dockerfile-check (scripts/tools/dockerfile-check: BuildKit's Dockerfile
# parser and linter), built with Go into the cache; rebuilt when its sources change.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$REPO_ROOT/scripts/tools/dockerfile-check"
hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
bin="$TOOLS_DIR/dockerfile-check/$hash/dockerfile-check"
if [[ ! -x $bin ]]; then
  with_lock dockerfile-check
  if [[ ! -x $bin ]]; then
    go_env dockerfile-check
    tool_say "building dockerfile-check (BuildKit parser) into ${bin%/*}"
    mkdir -p "${bin%/*}"
    (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" . >&2) && mv "$bin.tmp" "$bin"
  fi
fi
echo "$bin"
