#!/usr/bin/env bash
# Prints the path of a helm binary, building it with `go install` (Go module proxy) on first use.
#   HELM_VERSION  helm release to build (default below)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
dest="$TOOLS_DIR/helm/$HELM_VERSION-r2"   # -r2: built with release ldflags
bin="$dest/helm"
if [[ ! -x $bin ]]; then
  with_lock "helm-$HELM_VERSION"
  if [[ ! -x $bin ]]; then
    go_env helm
    tool_say "building helm $HELM_VERSION with go install into $dest (first run only; a few minutes)"
    mkdir -p "$dest"
    # The same -X flags as helm's release Makefile: the version, and the Kubernetes version helm
    # assumes without a cluster (1.<minor> for its k8s.io/client-go v0.<minor>, as the Makefile computes it).
    # Without them `helm install --dry-run` and `helm lint` assume Kubernetes 1.20.
    k8s=$(cd "$(go env GOMODCACHE)" 2>/dev/null; go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
    clientgo=$(awk '$1 == "k8s.io/client-go" {print $2}' "$k8s")
    [[ $clientgo =~ ^v0\.([0-9]+)\. ]] || tool_die "cannot read helm's k8s.io/client-go version from $k8s"
    minor=${BASH_REMATCH[1]}
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
    done
    GOBIN="$dest" go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  fi
fi
"$bin" version --short >/dev/null || tool_die "$bin does not run"
echo "$bin"
