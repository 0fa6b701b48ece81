#!/usr/bin/env bash
# End-to-end: the Go client (clients/go) against a real b24gate + b24-emulator.
# Builds offline in GOPATH mode against Debian's Go packages
# (/usr/share/gocode: grpc-go 1.33, protobuf 1.28, genproto).
#
# usage: go_client_test.sh B24_EMULATOR B24GATE
source "$(dirname "$0")/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v go >/dev/null || { echo "FAIL: go not found; run scripts/install-deps.sh" >&2; exit 1; }

start_servers "${1:?usage: go_client_test.sh B24_EMULATOR B24GATE}" "${2:?}"

# The module path is b24gate/clients/go: lay the sources out under a GOPATH.
mkdir -p "$DIR/gopath/src/b24gate/clients" "$DIR/gopath/src/b24gate/tests/clients"
ln -s "$ROOT/clients/go" "$DIR/gopath/src/b24gate/clients/go"
ln -s "$ROOT/tests/clients/go" "$DIR/gopath/src/b24gate/tests/clients/go"
export GOPATH="$DIR/gopath:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOPROXY=off
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/b24gate-go-build}
export GRPC_GO_RETRY=on  # grpc-go < 1.40 applies the service config's retries only with this

# The package's own unit tests (fake stub) first, then the end-to-end tests.
go vet b24gate/clients/go b24gate/tests/clients/go && \
  go test -count=1 b24gate/clients/go 2>&1 && \
  go test -count=1 -v b24gate/tests/clients/go 2>&1
status=$?
gateway_log_on_failure $status
exit $status
