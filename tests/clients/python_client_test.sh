#!/usr/bin/env bash
# End-to-end: the Python client (clients/python), installed from its
# pyproject.toml into a temp dir, against a real b24gate + b24-emulator.
#
# usage: python_client_test.sh B24_EMULATOR B24GATE
source "$(dirname "$0")/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3  # Debian's, where python3-grpcio is installed

start_servers "${1:?usage: python_client_test.sh B24_EMULATOR B24GATE}" "${2:?}"

# Install as a user would (no network, no dependencies: Debian has them), into
# a temp dir so nothing leaks into the system; from a copy, because setuptools
# writes build/ and *.egg-info next to the sources.
cp -r "$ROOT/clients/python" "$DIR/package"
if ! "$PY" -m pip install -q --no-deps --no-build-isolation --no-index --target "$DIR/site" \
    "$DIR/package" 2>"$DIR/pip.err"; then
  cat "$DIR/pip.err" >&2; echo "FAIL: pip install clients/python" >&2; exit 1
fi

PYTHONPATH="$DIR/site" "$PY" "$ROOT/tests/clients/python/e2e_test.py" 2>&1
status=$?
gateway_log_on_failure $status
exit $status
