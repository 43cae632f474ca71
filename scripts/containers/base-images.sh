#!/usr/bin/env bash
# Local stand-ins for the base and third-party images that the Dockerfile and docker-compose.yml
# name, tagged with exactly those names, in the private engine (scripts/containers/lib.sh):
#   debian:bookworm-slim        debootstrap (minbase) from Debian's mirror, `docker import`
#   node:<major>-bookworm-slim  + the project's Node (.nvmrc, scripts/node-env.sh) and npm
#   apache/kafka, postgres, ghcr.io/etspaceman/kinesis-mock, motoserver/moto, amazon/aws-cli,
#   prom/prometheus, chrislusf/seaweedfs   (see scripts/containers/stand-ins/*/Dockerfile)
# No registry is needed. The rootfs tarball is cached in $CONTAINERS_CACHE; an image is rebuilt only
# when its inputs change (label tideway.stand-in.inputs). Needs dockerd running (dockerd_start).
source "$(dirname "${BASH_SOURCE[0]}")/../stack/lib.sh" # KAFKA_VERSION, kafka_fetch, MOTO_REQUIREMENTS
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/node-env.sh"
T0=$SECONDS
STAND_INS="$CONTAINERS_SCRIPTS/stand-ins"
CONTEXTS="$CONTAINERS_CACHE/contexts"
BUILD=(nice -n 10 "$DOCKER_BIN" build --network host -q)

# The image a compose service names (docker-compose.yml is the one place the tags live).
compose_image() {
  node -e 'const y = require("yaml"); const c = y.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const s = c.services[process.argv[2]]; if (!s || !s.image) process.exit(1); console.log(s.image)' "$REPO_ROOT/docker-compose.yml" "$1"
}
NODE_MAJOR=$(sed -n 's/^ARG NODE_VERSION=//p' "$REPO_ROOT/Dockerfile")
NODE_TAG="$NODE_MAJOR-bookworm-slim"
NODE_FULL=$(tr -d '[:space:]v' <"$REPO_ROOT/.nvmrc")
[[ ${NODE_FULL%%.*} == "$NODE_MAJOR" ]] || die "Dockerfile NODE_VERSION $NODE_MAJOR is not the major of .nvmrc ($NODE_FULL)"
PG_TAG=$(compose_image postgres) PG_MAJOR=${PG_TAG#postgres:} PG_MAJOR=${PG_MAJOR%%-*}

# ---- debian:bookworm-slim from a cached debootstrap tarball ------------------------------------
debian_mirror() {
  local m
  m=$(sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\)[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [[ -n $m ]] || m=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  echo "${TIDEWAY_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}
ROOTFS="$CONTAINERS_CACHE/rootfs/debian-bookworm-minbase.tar"
make_rootfs() {
  [[ -s $ROOTFS ]] && return 0
  local mirror dir
  mirror=$(debian_mirror)
  dir=$(mktemp -d "$CONTAINERS_CACHE/rootfs.XXXXXX")
  say "debootstrap bookworm (minbase) from $mirror (once; cached in $ROOTFS)"
  nice -n 10 debootstrap --variant=minbase bookworm "$dir/root" "$mirror" >"$dir.log" 2>&1 ||
    { tail -n 20 "$dir.log" >&2; rm -rf "$dir"; die "debootstrap failed"; }
  cat >"$dir/root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SRC
  # Like the official slim images: no docs, man pages or apt lists.
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' >"$dir/root/etc/dpkg/dpkg.cfg.d/docker-slim"
  rm -rf "$dir"/root/var/lib/apt/lists/* "$dir"/root/var/cache/apt/*.bin "$dir"/root/usr/share/doc/* "$dir"/root/usr/share/man/*
  mkdir -p "$(dirname "$ROOTFS")"
  tar --numeric-owner -C "$dir/root" -cf "$ROOTFS.tmp" . && mv "$ROOTFS.tmp" "$ROOTFS"
  rm -rf "$dir" "$dir.log"
}

# build_stand_in NAME TAG CONTEXT [BUILD-ARGS...] : builds CONTEXT as TAG unless TAG was built from the same inputs.
build_stand_in() {
  local name=$1 tag=$2 ctx=$3 inputs t0=$SECONDS
  shift 3
  inputs=$({ printf '%s\n' "$tag" "$@"; (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum); docker image inspect -f '{{.Id}}' "$(sed -n 's/^FROM //p' "$ctx/Dockerfile" | head -n1)" 2>/dev/null; } | sha256sum | cut -c1-16)
  if image_has_label "$tag" tideway.stand-in.inputs "$inputs"; then
    say "$tag: up to date"
    return 0
  fi
  say "$tag: building ($name)"
  local args=() a
  for a in "$@"; do args+=(--build-arg "$a"); done
  "${BUILD[@]}" "${args[@]}" --label "tideway.stand-in.inputs=$inputs" -t "$tag" "$ctx" >/dev/null ||
    die "$tag: build failed"
  say "$tag: built in $((SECONDS - t0))s"
}

# context NAME : a fresh build context with the stand-in's files.
context() {
  local d="$CONTEXTS/$1"
  rm -rf "$d" && mkdir -p "$d" && cp -a "$STAND_INS/$1/." "$d/"
  echo "$d"
}

make_rootfs
rootfs_id=$(stat -c %s-%Y "$ROOTFS")
if [[ $(docker image inspect -f '{{ index .Config.Labels "tideway.stand-in.inputs" }}' tideway-stand-in/debian-rootfs 2>/dev/null) != "$rootfs_id" ]]; then
  say "tideway-stand-in/debian-rootfs: importing $ROOTFS"
  docker import -c 'CMD ["bash"]' -c "LABEL tideway.stand-in.inputs=$rootfs_id" "$ROOTFS" tideway-stand-in/debian-rootfs >/dev/null
fi
# The machine's own trust store (e.g. a TLS-intercepting proxy's CA) goes into the stand-in base,
# so that builds reach the registries from a container as they do from the host.
ctx=$(context debian)
mkdir -p "$ctx/local-ca"
cp /usr/local/share/ca-certificates/*.crt "$ctx/local-ca/" 2>/dev/null || true
if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"; else : >"$ctx/ca-certificates.crt"; fi
build_stand_in debian debian:bookworm-slim "$ctx"

# node: the project's Node (scripts/node-env.sh puts it first on PATH) and the npm it runs with.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[[ $(node -p process.versions.node) == "$NODE_FULL" ]] || die "node on PATH is $(node --version), not $NODE_FULL"
[[ -f $node_prefix/include/node/node_version.h ]] || die "no Node headers in $node_prefix/include/node"
NPM_VERSION=$(npm --version)
npm_tgz="$CONTAINERS_CACHE/npm/npm-$NPM_VERSION.tgz"
if [[ ! -s $npm_tgz ]]; then
  mkdir -p "$(dirname "$npm_tgz")"
  (cd "$(dirname "$npm_tgz")" && npm pack -q "npm@$NPM_VERSION" >/dev/null)
fi
ctx=$(context node)
mkdir -p "$ctx/node/bin" "$ctx/node/include" "$ctx/npm"
cp "$node_prefix/bin/node" "$ctx/node/bin/node"
cp -a "$node_prefix/include/node" "$ctx/node/include/node"
tar -xzf "$npm_tgz" -C "$ctx/npm" --strip-components=1
build_stand_in node "node:$NODE_TAG" "$ctx" "NODE_VERSION=$NODE_FULL"

# kafka: the local stack's jars plus kafka-tools (the healthcheck's kafka-broker-api-versions.sh).
KAFKA_IMAGE_LIBS="$CACHE_DIR/kafka/$KAFKA_VERSION-tools"
kafka_fetch "$KAFKA_IMAGE_LIBS" --with-tools >&2
ctx=$(context kafka)
cp -a "$KAFKA_IMAGE_LIBS/libs" "$ctx/libs"
cp "$STACK_SCRIPTS/kafka/log4j2.properties" "$ctx/"
build_stand_in kafka "$(compose_image kafka)" "$ctx"

build_stand_in postgres "$PG_TAG" "$(context postgres)" "PG_MAJOR=$PG_MAJOR"

ctx=$(context moto)
cp "$MOTO_REQUIREMENTS" "$ctx/moto-requirements.txt"
MOTO_IMAGE=$(compose_image moto)
build_stand_in moto "$MOTO_IMAGE" "$ctx"

ctx=$(context seaweedfs)
sed -i "s|^FROM motoserver/moto:MOTO_TAG|FROM $MOTO_IMAGE|" "$ctx/Dockerfile"
build_stand_in seaweedfs "$(compose_image seaweedfs)" "$ctx"

KINESIS_IMAGE=$(compose_image kinesis)
ctx=$(context kinesis-mock)
sed -i "s|^FROM node:NODE_TAG|FROM node:$NODE_TAG|" "$ctx/Dockerfile"
build_stand_in kinesis-mock "$KINESIS_IMAGE" "$ctx" "KINESIS_MOCK_VERSION=${KINESIS_IMAGE##*:}"

build_stand_in aws-cli "$(compose_image aws-setup)" "$(context aws-cli)"

ctx=$(context prometheus)
prom_dir=$(bash "$REPO_ROOT/scripts/tools/ensure-prometheus.sh")
cp "$prom_dir/prometheus" "$prom_dir/promtool" "$ctx/"
build_stand_in prometheus "$(compose_image prometheus)" "$ctx"

say "stand-in images ready ($((SECONDS - T0))s)"
