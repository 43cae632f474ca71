#!/usr/bin/env bash
# The Debian packages @confluentinc/kafka-javascript needs to build librdkafka and its addon from
# source during `npm ci` (the build also needs python3, make and g++). Installs only what is
# missing (`apt-get update` once first); does nothing when all are present.
#   scripts/ensure-native-build-deps.sh
set -euo pipefail

packages=(libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev python3 make g++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

fail() {
  echo "ensure-native-build-deps: cannot install ${missing[*]} ($1); install them, then run npm ci again" >&2
  exit 1
}
command -v apt-get >/dev/null || fail "no apt-get on this machine"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null && sudo -n true 2>/dev/null || fail "not root and no password-less sudo"
  sudo=(sudo -n)
fi
echo "ensure-native-build-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq >/dev/null || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install failed"
