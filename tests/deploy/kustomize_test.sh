#!/usr/bin/env bash
# Renders every kustomization under deploy/kubernetes with `kubectl kustomize`
# and validates every object offline (validate_manifests.mjs: the Kubernetes
# and prometheus-operator schemas, unknown fields refused, cross-references
# checked), checks the alert rules with promtool (syntax, and the unit tests
# of alerts_test.yaml), validates the Grafana dashboard and its ConfigMap,
# checks every alert has a runbook, and proves the validators can fail: a
# few one-word mistakes must each be refused.
#
# kubectl is not a Debian package; without it the render step is skipped (said
# so) and each resource file of the bases is validated alone instead.
#
# usage: kustomize_test.sh [REPO_ROOT]
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1
VALIDATE=tests/deploy/validate_manifests.mjs
[[ -d node_modules/kubernetes-models ]] || {
  echo "FAIL: node_modules/kubernetes-models missing; run scripts/install-deps.sh (npm ci)" >&2
  exit 1
}

DIR=$(mktemp -d -t b24gate-kustomize.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1" >&2; failures=$((failures + 1)); }

# expect_refused FILE [VALIDATOR OPTION...] -- SED_EXPRESSION...
# Each expression, applied to FILE alone, must change it and make the
# validator refuse the result.
expect_refused() {
  local file=$1 m
  shift
  local options=()
  while [[ $1 != -- ]]; do options+=("$1"); shift; done
  shift
  for m in "$@"; do
    sed "$m" "$file" >"$DIR/broken.yaml"
    if cmp -s "$file" "$DIR/broken.yaml"; then
      fail "mistake '$m' matched nothing in $(basename "$file")"
    elif node "$VALIDATE" "${options[@]}" "$DIR/broken.yaml" >/dev/null 2>"$DIR/broken.err"; then
      fail "validator accepted the mistake '$m'"
    else
      pass "validator refuses '$m': $(grep -m1 INVALID "$DIR/broken.err" | sed 's/^INVALID: [^:]*: //')"
    fi
  done
}

mapfile -t kustomizations < <(find deploy/kubernetes -name kustomization.yaml -printf '%h\n' | sort)
((${#kustomizations[@]})) || { echo "FAIL: no kustomization under deploy/kubernetes" >&2; exit 1; }

if command -v kubectl >/dev/null 2>&1; then
  rendered=()
  for k in "${kustomizations[@]}"; do
    out="$DIR/$(tr / _ <<<"$k").yaml"
    if kubectl kustomize "$k" >"$out" 2>"$out.err"; then
      rendered+=("$out")
      pass "kubectl kustomize $k"
    else
      fail "kubectl kustomize $k"; cat "$out.err" >&2
    fi
  done
  if node "$VALIDATE" --out "$DIR/extracted" "${rendered[@]}"; then
    pass "every rendered object is valid"
  else
    fail "rendered objects are invalid"
  fi
else
  echo "SKIP: kubectl not found (not a Debian package): kustomizations not rendered;" \
    "validating each resource file alone, without cross-checks"
  mapfile -t resources < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml \
    ! -path '*/overlays/*' | sort)
  if node "$VALIDATE" --no-cross-checks "${resources[@]}"; then
    pass "every resource file is valid"
  else
    fail "resource files are invalid"
  fi
fi

# Alert expressions are PromQL the real Prometheus accepts.
if [[ -d $DIR/extracted ]]; then
  if command -v promtool >/dev/null 2>&1; then
    for rules in "$DIR"/extracted/*.rules.yaml; do
      if promtool check rules "$rules" >"$DIR/promtool.out" 2>&1; then
        pass "promtool check rules: $(grep -o '[0-9]* rules found' "$DIR/promtool.out")"
      else
        fail "promtool check rules"; cat "$DIR/promtool.out" >&2
      fi
    done
    # Each alert fires on the series it is meant for, and only on those.
    cp tests/deploy/alerts_test.yaml "$DIR/extracted/"
    if (cd "$DIR/extracted" && promtool test rules alerts_test.yaml) >"$DIR/promtool.out" 2>&1; then
      pass "promtool test rules: every alert fires on its series and stays quiet on the others"
    else
      fail "promtool test rules"; cat "$DIR/promtool.out" >&2
    fi
  else
    echo "SKIP: promtool not found (Debian package prometheus): alert expressions not checked"
  fi
fi

# The validator must refuse a one-word mistake of each kind. Mutates the base
# rendering (or, without kubectl, the resource files' concatenation).
if [[ -n ${rendered[0]:-} ]]; then
  good=$(grep -l 'kind: Deployment' "${rendered[@]}" | head -1)
  extra=()
else
  good="$DIR/resources.yaml"
  for r in "${resources[@]}"; do cat "$r"; echo "---"; done >"$good"
  extra=(--no-cross-checks)
fi
mistakes=(
  's/readinessProbe:/readinessProbes:/'           # unknown field in a container
  's/interval: 15s/intervall: 15s/'               # unknown field in a ServiceMonitor
  's/- alert: B24gateOutcomeUnknownWrites/- alertt: B24gateOutcomeUnknownWrites/'
  's/maxUnavailable: 1/maxUnavailabel: 1/'        # unknown field in a PodDisruptionBudget
  's/memory: 256Mi/memory: 256 MiB/'              # not a quantity
  's/containerPort: 50051/containerPort: "50051"/' # wrong type
)
if [[ -z ${extra[*]} ]]; then
  mistakes+=(
    's/targetPort: http-metrics/targetPort: metrics/'                       # dangling port name
    's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 20/' # shorter than the drain
  )
fi
expect_refused "$good" "${extra[@]}" -- "${mistakes[@]}"

# The same for mistakes only a rendering with several replicas can make
# (overlays/replicas: Redis, the autoscaler).
if [[ -n ${rendered[0]:-} ]]; then
  several=$(grep -l -e '- --redis$' "${rendered[@]}" | head -1)
  if [[ -z $several ]]; then
    fail "no rendering runs several replicas with --redis (overlays/replicas)"
  else
    replica_mistakes=(
      's#redis://b24gate-redis:6379#redis://b24gate-redis:6380#'         # no such Service port
      's/^\(\s*\)- --redis$/\1- --redis-url/'                           # several pods, no shared state
      '/scaleTargetRef:/,/name:/s/name: b24gate$/name: b24gate-redis/'  # autoscales the wrong Deployment
      's/maxReplicas: 6/maxReplicas: 1/'                                # below minReplicas
      's/averageUtilization: 70/averageUtilisation: 70/'                # unknown field in the autoscaler
    )
    expect_refused "$several" -- "${replica_mistakes[@]}"
  fi
fi

# The same for the inbound event endpoint (overlays/events): its port, what
# the Ingress reaches, the NetworkPolicy, the events log, the token, the
# public URL the online bindings point at, the event bindings.
if [[ -n ${rendered[0]:-} ]]; then
  inbound=$(grep -l '"events_listen"' "${rendered[@]}" | head -1)
  if [[ -z $inbound ]]; then
    fail "no rendering serves the inbound event endpoint (overlays/events)"
  else
    events_mistakes=(
      's/"events_listen": "0.0.0.0:8080"/"events_listen": "0.0.0.0:8081"/'        # not the container port
      '/backend:/,/name: events/{s/name: b24gate-events/name: b24gate/;s/name: events/name: grpc/}' # Ingress to gRPC
      's/targetPort: events/targetPort: grpc/'                                     # events Service is gRPC
      's/^    targetPort: events$/&\n  - {name: grpc, port: 50051, targetPort: grpc}/' # and gRPC beside it
      '/kind: NetworkPolicy/,/^---/s/- port: events/- port: 8081/'                 # nobody admitted to the port
      's#"events_log": "/var/lib/b24gate/events"#"events_log": "/etc/b24gate/events"#' # log on a read-only mount
      's#/run/secrets/b24gate/acme-application-token#/run/secrets/b24gate/acme-token#' # token not in the Secret
      '/"application_token_file"/d'                                                # no token: every post refused
      's#"events_public_url": "https://events.example.com"#"events_public_url": "https://events.example.org"#' # bound to an unrouted host
      's/"online": \["ONCRMLEADADD"\]/"online": ["ONCRMLEAD*"]/'                    # a pattern in the bindings
      's/"offline": \["ONCRMDEALADD"/"offline": ["ONOFFLINEEVENT"/'                # the streams' own event
      's/"auth_connector": "crm-sync-writes"/"auth_connector": "crm sync writes"/' # not a connector name
      's/"event_bindings": {/"event_bindings": {"onlin": [],/'                      # unknown key
    )
    expect_refused "$inbound" -- "${events_mistakes[@]}"
  fi
fi

# The Grafana dashboard: valid offline (its queries run against a real
# Prometheus in tests/e2e/prometheus_test.cc), small enough for `kubectl
# apply` (whose last-applied annotation holds 256 KiB), shipped unchanged by
# every overlay in a ConfigMap labelled for Grafana's sidecar, and the
# validator refuses a one-word mistake of each kind.
DASHBOARD=deploy/grafana/b24gate.json
if node tests/deploy/validate_dashboard.mjs "$DASHBOARD" >"$DIR/dashboard.out" 2>&1; then
  pass "$(cat "$DIR/dashboard.out")"
else
  fail "dashboard is invalid"; cat "$DIR/dashboard.out" >&2
fi
size=$(wc -c <"$DASHBOARD")
if ((size < 200000)); then pass "dashboard is $size bytes"; else fail "dashboard is $size bytes (kubectl apply takes 256 KiB)"; fi
for r in "${rendered[@]:-}"; do
  [[ $r == *overlays* ]] || continue
  if node --input-type=module - "$r" "$DASHBOARD" <<'JS'
import fs from "node:fs";
import { parseAllDocuments } from "yaml";
const [rendering, dashboard] = process.argv.slice(2);
const maps = parseAllDocuments(fs.readFileSync(rendering, "utf8")).map((d) => d.toJS())
  .filter((o) => o?.kind === "ConfigMap" && o.metadata?.labels?.grafana_dashboard === "1");
process.exit(maps.length === 1 && maps[0].data?.["b24gate.json"] === fs.readFileSync(dashboard, "utf8") ? 0 : 1);
JS
  then
    pass "$(basename "$r"): one ConfigMap labelled grafana_dashboard=1 holds $DASHBOARD"
  else
    fail "$(basename "$r"): no ConfigMap labelled grafana_dashboard=1 holding $DASHBOARD unchanged"
  fi
done
dashboard_mistakes=(
  's/"type": "state-timeline"/"type": "state-timelines"/'      # no such panel type
  '0,/"id": 3,/s//"id": 2,/'                                   # id used twice
  '0,/"x": 12,/s//"x": 14,/'                                   # wider than the grid
  '0,/"y": 9/s//"y": 8/'                                       # two panels overlap
  '0,/\$portal/s//$portals/'                                   # undefined variable
  '0,/"unit": "percentunit"/s//"unit": "percent_unit"/'        # no such unit
  '0,/"uid": "\${datasource}"/s//"uid": "prometheus"/'         # data source not the variable
  's/"schemaVersion": 41/"schemaVersion": 16/'                 # not the current schema
)
for m in "${dashboard_mistakes[@]}"; do
  sed "$m" "$DASHBOARD" >"$DIR/broken.json"
  if cmp -s "$DASHBOARD" "$DIR/broken.json"; then
    fail "mistake '$m' matched nothing in $DASHBOARD"
  elif node tests/deploy/validate_dashboard.mjs "$DIR/broken.json" >/dev/null 2>"$DIR/broken.err"; then
    fail "dashboard validator accepted the mistake '$m'"
  else
    pass "dashboard validator refuses '$m': $(head -1 "$DIR/broken.err" | sed 's/^INVALID: [^:]*: //')"
  fi
done

# Every alert links its runbook, and the runbooks name only panels the
# dashboard has (check_runbooks.mjs); a missing link, a missing runbook and a
# renamed panel must each be refused.
RULES=deploy/kubernetes/base/prometheus-rule.yaml
if node tests/deploy/check_runbooks.mjs "$RULES" "$DASHBOARD" >"$DIR/runbooks.out" 2>&1; then
  pass "$(cat "$DIR/runbooks.out")"
else
  fail "runbooks"; cat "$DIR/runbooks.out" >&2
fi
mkdir -p "$DIR/repo/docs"
cp -r docs/runbooks "$DIR/repo/docs/"
rm "$DIR/repo/docs/runbooks/B24gateBitrixErrors.md"
sed '0,/runbook_url: /{/runbook_url: /d}' "$RULES" >"$DIR/no-link.yaml"
sed 's/"title": "Paused methods"/"title": "Methods paused"/' "$DASHBOARD" >"$DIR/renamed.json"
runbook_mistakes=(
  "$DIR/no-link.yaml $DASHBOARD ."                    # an alert without runbook_url
  "$RULES $DASHBOARD $DIR/repo"                       # a runbook file missing
  "$RULES $DIR/renamed.json ."                        # a runbook names a panel that is gone
)
for m in "${runbook_mistakes[@]}"; do
  # shellcheck disable=SC2086  # three words on purpose
  if node tests/deploy/check_runbooks.mjs $m >/dev/null 2>"$DIR/broken.err"; then
    fail "runbook check accepted: $m"
  else
    pass "runbook check refuses: $(head -1 "$DIR/broken.err" | sed 's/^INVALID: //')"
  fi
done

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all kustomize checks passed"
