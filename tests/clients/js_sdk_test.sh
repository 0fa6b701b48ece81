#!/usr/bin/env bash
# End-to-end: the official Bitrix24 JS SDK (@bitrix24/b24jssdk from npm, the
# version package-lock.json pins), used unchanged, against a real b24-emulator.
# The SDK only speaks HTTPS, so the emulator serves TLS with a throwaway test
# certificate that node trusts through NODE_EXTRA_CA_CERTS. No gateway: the SDK
# talks HTTP to the portal itself. The test runs on node:test.
#
# usage: js_sdk_test.sh B24_EMULATOR
source "$(dirname "$0")/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SDK=$ROOT/node_modules/@bitrix24/b24jssdk/package.json
[[ -f $SDK ]] || { echo "FAIL: the JS SDK is not installed at $SDK; run scripts/install-deps.sh (npm ci)" >&2; exit 1; }
emulator=${1:?usage: js_sdk_test.sh B24_EMULATOR}

bash "$ROOT/tests/e2e/make_test_certs.sh" "$DIR/certs" >/dev/null 2>&1 || { echo "FAIL: test certificates" >&2; exit 1; }
EVENTLOG_ENTRIES=1500
# A few thousand leads for the classic list helpers, tasks (read by both APIs)
# for the REST 3.0 ones, an event log for callTail. --no-limits: the SDK's own
# pacing is not what this test is about.
"$emulator" --listen 127.0.0.1:0 --webhook 1/js-sdk-test --no-limits \
  --tls-cert "$DIR/certs/server-1001.pem" --tls-key "$DIR/certs/server-1001.key" \
  --seed "crm.lead=3200,crm.deal=40,tasks.task=1200,user=5,main.eventlog=$EVENTLOG_ENTRIES" \
  >"$DIR/emu.out" 2>"$DIR/emu.err" &
pids+=($!)
emu=$(listening "$DIR/emu.out") || { cat "$DIR/emu.err" >&2; echo "FAIL: emulator did not start" >&2; exit 1; }

export B24_WEBHOOK_URL="https://$emu/rest/1/js-sdk-test/" B24_EVENTLOG_ENTRIES=$EVENTLOG_ENTRIES
export NODE_EXTRA_CA_CERTS=$DIR/certs/ca.pem
echo "emulator https://$emu (node $(node --version), b24jssdk $(node -p "require('$SDK').version"))"
node --test --test-reporter=spec "$ROOT/tests/clients/js_sdk/sdk_test.mjs" 2>&1
