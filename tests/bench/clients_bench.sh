#!/usr/bin/env bash
# The generated clients' share of a GetAll: 20,000 leads (`select ID,TITLE`,
# parallel keyset, standard plan, small profile, real time, like
# `getall_bench list --profile small --leads 20000`) read through a real
# b24gate in front of a real b24-emulator by each client (Python, Go,
# TypeScript, C++), items converted to the language's own values, next to
# the same read through that language's bare generated stub (items left as
# the client receives them: protobuf messages, JSON text for Python, which
# asks for items_as_json) and through the bare C++ stub (the gateway's own
# time).
# Each read starts idle (the gateway's bucket drained, the emulator's reset)
# with its connection made; the kinds take turns, ROUNDS (default 3) reads
# each, and the table gives their median. On a loaded machine reads of the
# same kind differ by more than a client adds, so after each bare read the
# driver also times the client's own work on the items it just received
# (Struct -> native values, best of 3): the table gives it as a share of the
# gateway's read (the bare C++ stub's median). A language whose toolchain is
# missing says so in its row. Figures only, never pass/fail.
#
# usage: clients_bench.sh B24_EMULATOR B24GATE CPP_CLIENT_GETALL
#   (CPP_CLIENT_GETALL: build/tests/bench/cpp_client_getall)
source "$(dirname "$0")/../clients/servers.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench/clients
PY=/usr/bin/python3  # Debian's, where python3-grpcio is installed
emulator=${1:?usage: clients_bench.sh B24_EMULATOR B24GATE CPP_CLIENT_GETALL}
gateway=${2:?}
cpp_driver=${3:?}
ROUNDS=${ROUNDS:-3}

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

# Each language's driver: `DRIVER TARGET bare|client` prints "ITEMS SECONDS".
declare -A driver missing
driver[C++]="$cpp_driver"
[[ -x $cpp_driver ]] || missing[C++]="no $cpp_driver (BENCHMARKS=ON scripts/build.sh cpp_client_getall)"

cp -r "$ROOT/clients/python" "$DIR/package"
if "$PY" -m pip install -q --no-deps --no-build-isolation --no-index --target "$DIR/site" \
    "$DIR/package" 2>"$DIR/pip.err"; then
  driver[Python]="env PYTHONPATH=$DIR/site $PY $HERE/python_getall.py"
else
  missing[Python]="not installed: $(tail -1 "$DIR/pip.err")"
fi

# Go: GOPATH mode against Debian's Go packages, as tests/clients/go_client_test.sh.
mkdir -p "$DIR/gopath/src/b24gate/clients" "$DIR/gopath/src/b24gate/tests/bench/clients"
ln -s "$ROOT/clients/go" "$DIR/gopath/src/b24gate/clients/go"
ln -s "$HERE/go" "$DIR/gopath/src/b24gate/tests/bench/clients/go"
if GOPATH="$DIR/gopath:/usr/share/gocode" GO111MODULE=off GOFLAGS="" GOPROXY=off \
    GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/b24gate-go-build} \
    go build -o "$DIR/go_getall" b24gate/tests/bench/clients/go 2>"$DIR/go.err"; then
  driver[Go]="$DIR/go_getall"
else
  missing[Go]="not built: $(tail -1 "$DIR/go.err")"
fi

if "$ROOT/node_modules/.bin/tsc" -p "$ROOT/clients/typescript" >"$DIR/tsc.err" 2>&1; then
  driver[TypeScript]="node $HERE/typescript_getall.mjs"
else
  missing[TypeScript]="not built: $(tail -1 "$DIR/tsc.err")"
fi

# The gateway's bucket drains what a read spent (13 of 50 requests at 2 a
# second), the emulator's is emptied with its counters.
reset() {
  sleep 7
  curl -s -X POST "http://$emu/_emulator/reset" >/dev/null
}

languages=(C++ Python Go TypeScript)
for ((round = 0; round < ROUNDS; round++)); do
  for lang in "${languages[@]}"; do
    [[ -n ${missing[$lang]:-} ]] && continue
    for kind in bare client; do
      reset
      # shellcheck disable=SC2086  # the driver is a command line
      ${driver[$lang]} "$target" "$kind" >>"$DIR/$lang.$kind" 2>>"$DIR/$lang.err" ||
        echo "failed" >>"$DIR/$lang.$kind"
    done
  done
done

"$PY" - "$DIR" "$ROUNDS" "${languages[@]}" <<'PY'
import os, statistics, sys

base, rounds, languages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def runs(lang, kind):
    """The driver's lines: [items, seconds(, conversion seconds)]; None if any failed."""
    try:
        lines = [l.split() for l in open(os.path.join(base, "%s.%s" % (lang, kind))) if l.strip()]
    except OSError:
        return None
    if not lines or any(len(l) < 2 for l in lines):
        return None
    return [[float(x) for x in l] for l in lines]

def median(rows, column):
    values = [r[column] for r in rows if len(r) > column]
    return statistics.median(values) if values else None

gateway = runs("C++", "bare")
gateway_s = median(gateway, 1) if gateway else None
print("| client | read | items | seconds (median of %d) | runs | / gateway's read | client's conversion of the same items (s) | conversion / gateway's read (goal <= 10%%) |" % rounds)
print("|---|---|---|---|---|---|---|---|")
for lang in languages:
    for kind, label in (("bare", "bare stub (items as received)"), ("client", "client (native values)")):
        r = runs(lang, kind)
        if r is None:
            print("| %s | %s | failed or not run | | | | | |" % (lang, label))
            continue
        items = "/".join(sorted({str(int(x[0])) for x in r}))
        seconds = median(r, 1)
        ratio = "%.2f" % (seconds / gateway_s) if gateway_s else ""
        conversion = median(r, 2)
        share = "%.1f%%" % (100 * conversion / gateway_s) if conversion is not None and gateway_s else ""
        label += " (the gateway's own)" if (lang, kind) == ("C++", "bare") else ""
        print("| %s | %s | %s | %.2f | %s | %s | %s | %s |" % (lang, label, items, seconds,
              " ".join("%.2f" % x[1] for x in r), ratio,
              "%.3f" % conversion if conversion is not None else "", share))
PY
for lang in "${!missing[@]}"; do echo "| $lang | ${missing[$lang]} | | | | | | |"; done
for lang in "${languages[@]}"; do
  [[ -s $DIR/$lang.err ]] && { echo "$lang errors:" >&2; tail -3 "$DIR/$lang.err" >&2; }
done
exit 0
