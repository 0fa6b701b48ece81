#!/usr/bin/env bash
# The generated clients' share of a GetAll: 20,000 leads (`select ID,TITLE`,
# parallel keyset, standard plan, small profile, real time, like
# `getall_bench list --profile small --leads 20000`) read through a real
# b24gate in front of a real b24-emulator, by each client with its items
# converted to the language's own values, next to the same read through the
# bare generated stub of that language (items left as protobuf messages).
# Each read starts idle (the gateway's bucket drained, the emulator's reset).
# Python only so far. Figures only, never pass/fail.
#
# usage: clients_bench.sh B24_EMULATOR B24GATE
source "$(dirname "$0")/../clients/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3  # Debian's, where python3-grpcio is installed
emulator=${1:?usage: clients_bench.sh B24_EMULATOR B24GATE}
ROUNDS=${ROUNDS:-2}  # reads of each kind, in turn
gateway=${2:?}

"$emulator" --listen 127.0.0.1:0 --webhook 1/clients-bench --plan standard --profile small \
  --seed crm.lead=20000 >"$DIR/emu.out" 2>"$DIR/emu.err" &
pids+=($!)
emu=$(listening "$DIR/emu.out") || { cat "$DIR/emu.err" >&2; exit 1; }
# The portal settings of getall_bench's standard plan.
printf '{"portals": [{"name": "bench", "webhook": "http://%s/rest/1/clients-bench/", "burst": 50,
                  "drain_per_second": 2, "headroom": 1, "max_concurrency": 8}]}\n' "$emu" \
  >"$DIR/gateway.json"
"$gateway" --listen 127.0.0.1:0 --config "$DIR/gateway.json" >"$DIR/gw.out" 2>"$DIR/gw.err" &
pids+=($!)
target=$(listening "$DIR/gw.out") || { cat "$DIR/gw.err" >&2; exit 1; }

echo "| client | read | items | seconds |"
echo "|---|---|---|---|"
cp -r "$ROOT/clients/python" "$DIR/package"
if "$PY" -m pip install -q --no-deps --no-build-isolation --no-index --target "$DIR/site" \
    "$DIR/package" 2>"$DIR/pip.err"; then
  PYTHONPATH="$DIR/site" "$PY" "$ROOT/tests/bench/clients/python_getall.py" "$target" "http://$emu" "$ROUNDS" ||
    echo "| Python | failed | | |"
else
  echo "| Python | not installed: $(tail -1 "$DIR/pip.err") | | |"
fi
