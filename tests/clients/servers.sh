# Sourced by the client e2e scripts: starts a real b24-emulator and b24gate on
# free ports (like tests/e2e/buf_curl_test.sh) and exports for the test program
#   B24GATE_TARGET      host:port of the gateway
#   B24_EMULATOR_URL    the emulator's webhook base URL (for reading its data directly)
#   B24_EMULATOR_ADDR   http://host:port of the emulator (its /_emulator/ control endpoints)
#   B24_EXPECTED_LEADS  crm.lead's total, asked of the emulator itself
#   B24GATE_TOKEN       the bearer token of the gateway's one API client: the
#                       clients send it through their token option, so every
#                       test also checks that option (a call without it is
#                       refused UNAUTHENTICATED)
# Stops both (and removes $DIR) on exit.
#
# usage: start_servers B24_EMULATOR B24GATE
set -uo pipefail

DIR=$(mktemp -d -t b24gate-client-test.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

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

start_servers() {
  local emulator=$1 gateway=$2
  # A few thousand leads for GetAll; deals to update; the bucket is not
  # what these tests are about, so the emulator does not refuse.
  "$emulator" --listen 127.0.0.1:0 --webhook 1/clients-test --no-limits \
    --seed crm.lead=3200,crm.deal=60,crm.contact=30 >"$DIR/emu.out" 2>"$DIR/emu.err" &
  pids+=($!)
  local emu
  emu=$(listening "$DIR/emu.out") || { cat "$DIR/emu.err" >&2; echo "FAIL: emulator did not start" >&2; exit 1; }
  export B24_EMULATOR_URL="http://$emu/rest/1/clients-test/" B24_EMULATOR_ADDR="http://$emu"

  # Two attempts per read in the gateway, so the retry tests can tell the
  # client's retries (service config) from the gateway's by counting requests;
  # no autothrottle and a roomy bucket (the emulator runs --no-limits): these
  # tests are about the clients, not about pacing.
  # One API client; its token_sha256 is printf %s clients-test-token | sha256sum.
  export B24GATE_TOKEN=clients-test-token
  # Portal "rest3" is the same emulator with REST 3.0 as its default API, for
  # the tests of REST 3.0 errors (field violations) through each client.
  printf '{"portals": [{"name": "test", "webhook": "%s", "max_attempts": 2, "autothrottle": false,
                  "burst": 1000, "drain_per_second": 1000},
                 {"name": "rest3", "webhook": "%s", "api_version": "v3", "autothrottle": false,
                  "burst": 1000, "drain_per_second": 1000}],
           "clients": [{"name": "clients-test", "roles": ["admin"],
                        "token_sha256": "8bc5c257c6344c5f89832e5c4411dddc8fa329e3a9e2c536b8ab4272fdbe832c"}]}\n' \
    "$B24_EMULATOR_URL" "$B24_EMULATOR_URL" \
    >"$DIR/gateway.json"
  # An empty offline event queue is read again after 200 ms (the subscribe
  # helpers' tests), not after the default 5 s; the offline events wait in
  # an events log of the run's own.
  "$gateway" --listen 127.0.0.1:0 --config "$DIR/gateway.json" --events-poll-interval 200ms \
    --events-log "$DIR/events" \
    >"$DIR/gw.out" 2>"$DIR/gw.err" &
  pids+=($!)
  B24GATE_TARGET=$(listening "$DIR/gw.out") || { cat "$DIR/gw.err" >&2; echo "FAIL: gateway did not start" >&2; exit 1; }
  export B24GATE_TARGET

  # The count GetAll must reach, from the emulator itself rather than from
  # the gateway under test.
  B24_EXPECTED_LEADS=$(/usr/bin/python3 -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "crm.lead.list?select[]=ID") as r:
    print(json.load(r)["total"])' "$B24_EMULATOR_URL") || { echo "FAIL: emulator total" >&2; exit 1; }
  export B24_EXPECTED_LEADS
  echo "servers: gateway $B24GATE_TARGET, emulator $emu, $B24_EXPECTED_LEADS leads"
}

# Prints the gateway's log when the test failed.
gateway_log_on_failure() {
  if (($1 != 0)); then
    echo "--- gateway stderr (last 40 lines)" >&2
    tail -40 "$DIR/gw.err" >&2
  fi
}
