#!/usr/bin/env bash
# Prints the path of `kubernetes-validate` (PyPI; bundles the Kubernetes JSON schemas, so it
# validates offline), installed into a cached venv on first use.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
home="$TOOLS_DIR/kubernetes-validate/$KUBERNETES_VALIDATE_VERSION"
bin="$home/venv/bin/kubernetes-validate"
if [[ ! -f $home/.complete ]]; then
  with_lock "kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
  if [[ ! -f $home/.complete ]]; then
    command -v python3 >/dev/null || tool_die "python3 not found"
    tool_say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $home/venv"
    rm -rf "$home" && mkdir -p "$home"
    python3 -m venv "$home/venv" >&2
    "$home/venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
    touch "$home/.complete"
  fi
fi
"$bin" --version >/dev/null || tool_die "$bin does not run"
echo "$bin"
