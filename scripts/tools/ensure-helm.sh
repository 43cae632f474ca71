#!/usr/bin/env bash
# Prints the path of a helm binary, building it with `go install` (Go module proxy) on first use.
#   HELM_VERSION  helm release to build (default below)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
dest="$TOOLS_DIR/helm/$HELM_VERSION"
bin="$dest/helm"
if [[ ! -x $bin ]]; then
  with_lock "helm-$HELM_VERSION"
  if [[ ! -x $bin ]]; then
    go_env helm
    tool_say "building helm $HELM_VERSION with go install into $dest (first run only; a few minutes)"
    mkdir -p "$dest"
    GOBIN="$dest" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  fi
fi
"$bin" version --short >/dev/null || tool_die "$bin does not run"
echo "$bin"
