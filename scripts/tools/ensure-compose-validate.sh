#!/usr/bin/env bash
# Prints the path of compose-validate (scripts/tools/compose-validate: compose-go, the Compose
# specification's reference loader), built with Go into the cache; rebuilt when its sources change.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$REPO_ROOT/scripts/tools/compose-validate"
hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
bin="$TOOLS_DIR/compose-validate/$hash/compose-validate"
if [[ ! -x $bin ]]; then
  with_lock compose-validate
  if [[ ! -x $bin ]]; then
    go_env compose-validate
    tool_say "building compose-validate (compose-go) into ${bin%/*}"
    mkdir -p "${bin%/*}"
    (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" . >&2) && mv "$bin.tmp" "$bin"
  fi
fi
echo "$bin"
