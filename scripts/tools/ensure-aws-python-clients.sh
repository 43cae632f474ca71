#!/usr/bin/env bash
# Prints the bin folder of a virtualenv with boto3 and the aws CLI (versions pinned in
# scripts/tools/aws-python-clients/requirements.txt), made from PyPI into the cache; made again
# when the requirements change. Tests run `<bin>/python` and `<bin>/aws` from it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

req="$REPO_ROOT/scripts/tools/aws-python-clients/requirements.txt"
hash=$(sha256sum "$req" | cut -c1-12)
home="$TOOLS_DIR/aws-python-clients/$hash"
if [[ ! -e $home/installed ]]; then
  with_lock aws-python-clients
  if [[ ! -e $home/installed ]]; then
    command -v python3 >/dev/null || tool_die "python3 not found (needed for boto3 and the aws CLI)"
    tool_say "installing boto3 and the aws CLI into $home/venv"
    rm -rf "$home"
    mkdir -p "$home"
    python3 -m venv "$home/venv" >&2
    "$home/venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
    "$home/venv/bin/aws" --version >&2
    touch "$home/installed"
  fi
fi
echo "$home/venv/bin"
