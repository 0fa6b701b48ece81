#!/usr/bin/env bash
# Installs what building and testing b24gate needs on Debian 12, then the
# pinned npm tools (buf). Idempotent: apt-get runs only when a package is
# missing, so a second run costs a few dpkg queries and an `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake g++ make pkg-config ccache git ca-certificates openssl
  # lld links the test binaries and servers several times faster than GNU ld.
  lld
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev nlohmann-json3-dev prometheus-cpp-dev
  libcurl4-openssl-dev libssl-dev libgtest-dev libgmock-dev libcpp-httplib-dev
  # tests/e2e/inbound_hostile_test.cc compresses a post.
  zlib1g-dev
  # Replicas share portal budgets through Redis (engine/redis: hiredis); tests
  # start a real redis-server.
  libhiredis-dev redis-server
  # Generated clients (clients/): code generators and each language's runtime.
  python3 python3-grpcio python3-protobuf python3-tqdm python3-pip python3-setuptools
  golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev golang-google-protobuf-dev
  # protobuf 1.5 (not 1.3): grpc-go 1.33 marshals through it, and only 1.5 handles
  # the APIv2 messages protoc-gen-go 1.28 generates.
  golang-google-genproto-dev golang-github-golang-protobuf-1-5-dev
  # tests/deploy: buildah assembles the OCI image offline; promtool (prometheus)
  # checks and unit-tests the alert rules.
  buildah prometheus
  # tests/fuzz: libFuzzer targets, built with clang (scripts/fuzz.sh).
  clang libfuzzer-14-dev
)
# Node.js only runs the npm tools. A newer node already on the machine (for
# example from NodeSource) is kept; Debian's is installed only when none is.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# buf (proto lint/build/generate, and `buf curl` for the demo and the e2e
# test), ts-proto, tsc and the TypeScript client's runtime, pinned by
# package-lock.json. Skipped when node_modules was installed from this very
# lock file (a copy is kept as a stamp), so re-runs need no network.
stamp=node_modules/.b24gate-installed-lock.json
if [[ ! -x node_modules/.bin/buf ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
