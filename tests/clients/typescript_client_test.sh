#!/usr/bin/env bash
# End-to-end: the TypeScript client (clients/typescript), compiled with tsc
# from npm, against a real b24gate + b24-emulator; the test runs on node:test.
#
# usage: typescript_client_test.sh B24_EMULATOR B24GATE
source "$(dirname "$0")/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TSC=$ROOT/node_modules/.bin/tsc  # pinned by package-lock.json (npm ci)
[[ -x $TSC ]] || { echo "FAIL: tsc not found at $TSC; run scripts/install-deps.sh (npm ci)" >&2; exit 1; }

start_servers "${1:?usage: typescript_client_test.sh B24_EMULATOR B24GATE}" "${2:?}"

# The package's own build (dist/ is ignored by git): ESM + .d.ts.
"$TSC" -p "$ROOT/clients/typescript" || { echo "FAIL: tsc" >&2; exit 1; }
[[ -f $ROOT/clients/typescript/dist/index.d.ts ]] || { echo "FAIL: no type declarations" >&2; exit 1; }
# A consumer's code type-checks against those declarations.
"$TSC" -p "$ROOT/tests/clients/typescript" || { echo "FAIL: types_check.ts" >&2; exit 1; }

# resume_test.mjs, call_many_test.mjs, files_unit_test.mjs: the layer's own logic over fakes;
# e2e_test.mjs, events_test.mjs and files_test.mjs: against the servers.
node --test --test-reporter=spec "$ROOT/tests/clients/typescript/resume_test.mjs" \
  "$ROOT/tests/clients/typescript/call_many_test.mjs" "$ROOT/tests/clients/typescript/files_unit_test.mjs" \
  "$ROOT/tests/clients/typescript/e2e_test.mjs" "$ROOT/tests/clients/typescript/events_test.mjs" \
  "$ROOT/tests/clients/typescript/files_test.mjs" 2>&1
status=$?
gateway_log_on_failure $status
exit $status
