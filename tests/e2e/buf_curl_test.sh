#!/usr/bin/env bash
# End-to-end: a reflection-based client that knows nothing of our .proto files
# (`buf curl` from npm) lists the gateway's services, calls crm.lead.list and
# asks grpc.health.v1 for the serving status.
#
# usage: buf_curl_test.sh B24_EMULATOR B24GATE [BUF]
# BUF defaults to node_modules/.bin/buf of the source tree (npm ci).
set -uo pipefail

EMULATOR=${1:?usage: buf_curl_test.sh B24_EMULATOR B24GATE [BUF]}
GATEWAY=${2:?usage: buf_curl_test.sh B24_EMULATOR B24GATE [BUF]}
BUF=${3:-$(cd "$(dirname "$0")/../.." && pwd)/node_modules/.bin/buf}
if [[ ! -x $BUF ]]; then
  echo "FAIL: buf not found at $BUF; run scripts/install-deps.sh (npm ci) first" >&2
  exit 1
fi

DIR=$(mktemp -d -t b24gate-buf-curl.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1" >&2; failures=$((failures + 1)); }

# Prints HOST:PORT from the "listening on" first line of $1, waiting up to 30 s.
listening() {
  for _ in $(seq 1 300); do
    local line
    line=$(sed -n '1s/^listening on //p' "$1" 2>/dev/null)
    [[ -n $line ]] && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}

"$EMULATOR" --listen 127.0.0.1:0 --seed crm.lead=120 --webhook 1/buf-curl-test \
  >"$DIR/emu.out" 2>"$DIR/emu.err" &
pids+=($!)
EMU=$(listening "$DIR/emu.out") || { cat "$DIR/emu.err" >&2; echo "FAIL: emulator did not start" >&2; exit 1; }

"$GATEWAY" --listen 127.0.0.1:0 --portal "test=http://$EMU/rest/1/buf-curl-test/" \
  >"$DIR/gw.out" 2>"$DIR/gw.err" &
pids+=($!)
GW=$(listening "$DIR/gw.out") || { cat "$DIR/gw.err" >&2; echo "FAIL: gateway did not start" >&2; exit 1; }

bufcurl() { "$BUF" curl --protocol grpc --http2-prior-knowledge "$@"; }

# 1. Reflection lists the four GatewayService methods (and the health service).
if bufcurl "http://$GW" --list-methods >"$DIR/methods" 2>"$DIR/methods.err"; then
  missing=
  for m in Call CallBatch GetAll GetById; do
    grep -qx "bitrix24.gateway.v1.GatewayService/$m" "$DIR/methods" || missing+=" $m"
  done
  grep -qx "grpc.health.v1.Health/Check" "$DIR/methods" || missing+=" grpc.health.v1.Health/Check"
  if [[ -z $missing ]]; then pass "--list-methods lists the service"; else
    fail "--list-methods lacks:$missing"; cat "$DIR/methods" >&2; fi
else
  fail "--list-methods failed"; cat "$DIR/methods.err" >&2
fi

# 2. Call crm.lead.list: 50 leads of a page, total 120, next 50.
if bufcurl "http://$GW/bitrix24.gateway.v1.GatewayService/Call" \
    -d '{"method":"crm.lead.list","params":{"filter":{">ID":0},"select":["ID","TITLE"]}}' \
    >"$DIR/call" 2>"$DIR/call.err"; then
  if node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const ok = Array.isArray(r.result) && r.result.length === 50 && r.result[0].ID &&
                 r.result[0].TITLE && String(r.total) === "120" && String(r.next) === "50";
      process.exit(ok ? 0 : 1);' "$DIR/call"; then
    pass "Call crm.lead.list returns a page of leads with total and next"
  else
    fail "Call crm.lead.list: unexpected answer"; head -c 2000 "$DIR/call" >&2
  fi
else
  fail "Call crm.lead.list failed"; cat "$DIR/call.err" >&2
fi

# 3. A Bitrix24 error arrives as a gRPC status with ErrorInfo.
if bufcurl "http://$GW/bitrix24.gateway.v1.GatewayService/Call" \
    -d '{"method":"no.such.method"}' >"$DIR/err" 2>&1; then
  fail "Call no.such.method succeeded"
elif grep -q '"code": "not_found"' "$DIR/err" && grep -q 'google.rpc.ErrorInfo' "$DIR/err"; then
  pass "unknown method -> NOT_FOUND with ErrorInfo"
else
  fail "unknown method: unexpected error"; cat "$DIR/err" >&2
fi

# 4. Health.
if bufcurl "http://$GW/grpc.health.v1.Health/Check" >"$DIR/health" 2>"$DIR/health.err" &&
    grep -q '"status": "SERVING"' "$DIR/health"; then
  pass "grpc.health.v1.Health/Check answers SERVING"
else
  fail "health check"; cat "$DIR/health" "$DIR/health.err" >&2
fi

if ((failures)); then
  echo "$failures check(s) failed; gateway log:" >&2
  cat "$DIR/gw.err" >&2
  exit 1
fi
echo "all buf curl checks passed"
