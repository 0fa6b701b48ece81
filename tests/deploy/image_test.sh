#!/usr/bin/env bash
# End-to-end: builds the runtime image offline (scripts/build-image.sh, in a
# buildah storage of the test's own), checks its configuration, mounts it and
# runs its b24gate with chroot as the image's non-root user, the way the
# Kubernetes Deployment runs it. Once per kustomization, as `kubectl kustomize`
# renders it: the config file from its ConfigMap at the path `--config` names,
# the files that config names (the Secret's keys) holding webhook URLs of a
# b24-emulator on 127.0.0.1, and the Deployment's arguments (a --redis URL
# pointed at a real redis-server on 127.0.0.1). A reflection
# client (`buf curl`) then calls through it. Without kubectl, the base
# Deployment's arguments and each config.json as written. Container runtimes
# cannot set rlimits in this sandbox, so the image's root file system is
# entered with chroot instead.
#
# usage: image_test.sh B24_EMULATOR B24GATE [BUF]
# Exits 77 (ctest: skipped) only when not root: mount and chroot need it.
set -uo pipefail

EMULATOR=${1:?usage: image_test.sh B24_EMULATOR B24GATE [BUF]}
GATEWAY=${2:?usage: image_test.sh B24_EMULATOR B24GATE [BUF]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUF=${3:-$ROOT/node_modules/.bin/buf}
readonly IMAGE_USER=10001

if [[ $(id -u) != 0 ]]; then
  echo "SKIP: not root (uid $(id -u)): buildah mount and chroot need root"
  exit 77
fi
command -v buildah >/dev/null || { echo "FAIL: buildah not installed; run scripts/install-deps.sh" >&2; exit 1; }
[[ -x $BUF ]] || { echo "FAIL: buf not found at $BUF; run scripts/install-deps.sh (npm ci)" >&2; exit 1; }

DIR=$(mktemp -d -t b24gate-image.XXXXXX)
IMAGE=localhost/b24gate:test-$$
export BUILDAH_ISOLATION=chroot
BUILDAH_ARGS="--root $DIR/storage --runroot $DIR/run"
bh() { buildah $BUILDAH_ARGS "$@"; }  # word splitting of BUILDAH_ARGS intended
pids=()
ctr=
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [[ -n $ctr ]]; then bh umount "$ctr" >/dev/null 2>&1; bh rm "$ctr" >/dev/null 2>&1; fi
  bh rmi -f "$IMAGE" >/dev/null 2>&1
  # Overlay storage keeps a mount of its own; nothing may stay mounted.
  grep -o " $DIR[^ ]*" /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1" >&2; failures=$((failures + 1)); }

# Prints HOST:PORT from the "listening on" first line of $1, waiting up to 30 s
# or until process $2 (when given) has exited.
listening() {
  for _ in $(seq 1 300); do
    if [[ -n ${2:-} ]] && { [[ ! -e /proc/$2 ]] || [[ $(awk '{print $3}' "/proc/$2/stat" 2>/dev/null) == Z ]]; }; then return 1; fi
    local line
    line=$(sed -n '1s/^listening on //p' "$1" 2>/dev/null)
    [[ -n $line ]] && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}

# Storage: overlay where the kernel allows it, else vfs (slower, always
# works). The probe creates, mounts and removes a container, because some
# overlay failures only show at mount time.
probe() {
  bh from --name probe-$$ scratch && bh mount probe-$$ >/dev/null && bh umount probe-$$ >/dev/null &&
    bh rm probe-$$ >/dev/null
}
if ! probe >"$DIR/probe.out" 2>&1; then
  echo "note: buildah overlay storage failed ($(tail -1 "$DIR/probe.out")); using vfs"
  bh rm probe-$$ >/dev/null 2>&1
  grep -o " $DIR[^ ]*" /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
  rm -rf "$DIR/storage" "$DIR/run"
  BUILDAH_ARGS="$BUILDAH_ARGS --storage-driver vfs"
  if ! probe >"$DIR/probe.out" 2>&1; then
    echo "FAIL: buildah cannot create and mount a container with overlay or vfs storage:" >&2
    cat "$DIR/probe.out" >&2
    exit 1
  fi
fi

# 1. Build.
if BUILDAH_ARGS=$BUILDAH_ARGS IMAGE=$IMAGE bash "$ROOT/scripts/build-image.sh" "$GATEWAY" >"$DIR/build.out" 2>&1; then
  pass "build-image.sh: $(tail -1 "$DIR/build.out" | sed 's/^build-image: //')"
else
  cat "$DIR/build.out" >&2
  echo "FAIL: build-image.sh failed" >&2
  exit 1
fi

# 2. The image's configuration: non-root user, entrypoint, ports, OCI labels.
if bh inspect --type image "$IMAGE" >"$DIR/inspect.json" 2>&1 && node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).OCIv1.config;
    const problems = [];
    if (c.User !== "10001:10001") problems.push(`user ${c.User}`);
    if (JSON.stringify(c.Entrypoint) !== JSON.stringify(["/usr/local/bin/b24gate"])) problems.push(`entrypoint ${c.Entrypoint}`);
    for (const p of ["50051", "9464"]) if (!(p in (c.ExposedPorts ?? {})) && !(`${p}/tcp` in (c.ExposedPorts ?? {}))) problems.push(`port ${p} not exposed`);
    for (const l of ["title", "description", "version", "revision", "created"]) {
      if (!c.Labels?.[`org.opencontainers.image.${l}`]) problems.push(`label org.opencontainers.image.${l} missing`);
    }
    if (problems.length) { console.error(problems.join("; ")); process.exit(1); }' "$DIR/inspect.json"; then
  pass "image runs as 10001:10001, entrypoint b24gate, exposes 50051 and 9464, has OCI labels"
else
  fail "image configuration"
fi

ctr=$(bh from --name "b24gate-test-$$" "$IMAGE") || { echo "FAIL: buildah from $IMAGE" >&2; exit 1; }
rootfs=$(bh mount "$ctr") || { echo "FAIL: buildah mount" >&2; exit 1; }

# 3. Only the binary, its libraries, certificates and accounts: no shell,
#    no package manager.
extras=$(cd "$rootfs" && find . -type f ! -path './usr/local/bin/b24gate' ! -path './usr/lib/*' \
  ! -path './etc/ssl/certs/ca-certificates.crt' ! -path './etc/passwd' ! -path './etc/group' \
  ! -path './etc/nsswitch.conf')
if [[ -z $extras && ! -e $rootfs/bin/sh && -s $rootfs/etc/ssl/certs/ca-certificates.crt ]]; then
  pass "image holds b24gate, $(find "$rootfs/usr/lib" -type f | wc -l) library files, CA certificates, no shell"
else
  fail "unexpected image contents: ${extras:-a shell or no CA certificates}"
fi

"$EMULATOR" --listen 127.0.0.1:0 --seed crm.lead=120 --webhook 1/image-test \
  >"$DIR/emu.out" 2>"$DIR/emu.err" &
pids+=($!)
EMU=$(listening "$DIR/emu.out") || { cat "$DIR/emu.err" >&2; echo "FAIL: emulator did not start" >&2; exit 1; }

# What each kustomization renders: the gateway container's arguments and the
# config file they name (from the ConfigMap), extracted by the validator.
# Without kubectl, the base Deployment's arguments and each config.json as
# written (the configMapGenerator copies them unchanged).
cases=()  # "LABEL|ARGS_JSON|CONFIG_FILE"
if command -v kubectl >/dev/null 2>&1; then
  while read -r k; do
    out="$DIR/render/$(tr / _ <<<"$k")"
    mkdir -p "$out"
    if kubectl kustomize "$ROOT/$k" >"$out/all.yaml" 2>"$out/err" &&
        node "$ROOT/tests/deploy/validate_manifests.mjs" --out "$out" "$out/all.yaml" >/dev/null 2>>"$out/err"; then
      cases+=("$k|$out/gateway-args.json|$out/gateway-config.json")
    else
      fail "$k does not render to valid objects"; cat "$out/err" >&2
    fi
  done < <(cd "$ROOT" && find deploy/kubernetes -name kustomization.yaml -printf '%h\n' | sort)
else
  echo "note: kubectl not found (not a Debian package): using the base Deployment's args and each config.json as written"
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8");
    const m = text.match(/^\s*args:\s*(\[.*\])\s*$/m);
    if (!m) { console.error("no one-line args: [...] in " + process.argv[1]); process.exit(1); }
    console.log(JSON.stringify(JSON.parse(m[1])));' "$ROOT/deploy/kubernetes/base/deployment.yaml" >"$DIR/args.json" ||
    { echo "FAIL: cannot read the Deployment's args" >&2; exit 1; }
  while read -r config; do
    cases+=("$config|$DIR/args.json|$ROOT/$config")
  done < <(cd "$ROOT" && find deploy/kubernetes -name config.json | sort)
fi
((${#cases[@]})) || { echo "FAIL: nothing to run: no kustomization rendered" >&2; exit 1; }

help=$(chroot --userspec=$IMAGE_USER:$IMAGE_USER "$rootfs" /usr/local/bin/b24gate --help 2>&1)

# Sets gateway_args, config_path and metrics_port from the Deployment's
# arguments in $1 (JSON): flags this binary does not have yet are left out (the
# metrics and logging flags land separately), listeners move to 127.0.0.1.
gateway_args_from() {
  local deploy_args flag value i
  mapfile -t deploy_args < <(node -e 'for (const a of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(a)' "$1")
  gateway_args=(--listen 127.0.0.1:0)
  config_path=
  metrics_port=
  for ((i = 0; i < ${#deploy_args[@]}; i++)); do
    flag=${deploy_args[i]} value=${deploy_args[i + 1]:-}
    # A flag followed by another flag (or nothing) is a switch.
    if [[ -z $value || $value == --* ]]; then
      if grep -q -- "$flag" <<<"$help"; then gateway_args+=("$flag"); else echo "note: $flag left out: this b24gate has no such flag yet"; fi
      continue
    fi
    ((i++))
    if ! grep -q -- "$flag" <<<"$help"; then
      echo "note: $flag $value left out: this b24gate has no such flag yet"
      continue
    fi
    if [[ $flag == --metrics-listen ]]; then
      # A fixed port, so the test knows where to scrape.
      metrics_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
      value=127.0.0.1:$metrics_port
    elif [[ $flag == *-listen ]]; then
      value=127.0.0.1:0
    elif [[ $flag == --redis ]]; then
      # The overlay's Redis Service is a real redis-server on 127.0.0.1 here.
      start_local_redis || fail "redis-server did not start"
      value=${REDIS_URL:-redis://127.0.0.1:1}
    fi
    [[ $flag == --config ]] && config_path=$value
    gateway_args+=("$flag" "$value")
  done
}

# Sets REDIS_URL to redis://127.0.0.1:PORT of one redis-server (Debian's
# package) for every case whose Deployment passes --redis, started on first use.
REDIS_URL=
start_local_redis() {
  if [[ -z $REDIS_URL ]]; then
    command -v redis-server >/dev/null || return 1
    local port
    port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$DIR/redis.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
      redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && { REDIS_URL=redis://127.0.0.1:$port; break; }
      sleep 0.1
    done
    [[ -n $REDIS_URL ]] || return 1
  fi
}

bufcurl() { "$BUF" curl --protocol grpc --http2-prior-knowledge "$@"; }

# 4. For every kustomization: its config file where the ConfigMap is mounted,
#    the files it names (the Secret's keys) holding emulator webhooks, its
#    arguments; run, call, stop.
run_case() {
  local name=$1 args=$2 config=$3
  gateway_args_from "$args"
  if [[ -z $config_path ]]; then fail "$name: the Deployment passes no --config"; return; fi
  rm -rf "$rootfs/etc/b24gate" "$rootfs/run/secrets"
  install -D -m 0644 "$config" "$rootfs$config_path"
  # Each webhook_file gets an emulator webhook URL; client secrets and
  # application tokens a dummy.
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const p of c.portals ?? []) {
      if (p.webhook_file) console.log(`${p.webhook_file} webhook`);
      if (p.oauth?.client_secret_file) console.log(`${p.oauth.client_secret_file} secret`);
      if (p.application_token_file) console.log(`${p.application_token_file} secret`);
    }
    if (c.application?.client_secret_file) console.log(`${c.application.client_secret_file} secret`);
    ' "$config" | while read -r file kind; do
    if [[ $kind == webhook ]]; then
      echo "http://$EMU/rest/1/image-test/" >"$DIR/secret"
    else
      echo "not-a-real-secret" >"$DIR/secret"
    fi
    install -D -m 0440 -g "$IMAGE_USER" "$DIR/secret" "$rootfs$file"
  done
  # The first configured portal; a configuration without one (a Marketplace
  # application's) gets one registered at run time, kept in its portal store.
  local first
  first=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).portals?.[0]?.name ?? "")' "$config")
  # The config file's inbound endpoint moves to 127.0.0.1 too (a flag wins
  # over the file).
  local inbound=
  if grep -q '"events_listen"' "$config" && [[ " ${gateway_args[*]} " != *" --events-listen "* ]]; then
    inbound=yes
    gateway_args+=(--events-listen 127.0.0.1:0)
  fi

  env -i "$(command -v chroot)" --userspec=$IMAGE_USER:$IMAGE_USER "$rootfs" /usr/local/bin/b24gate "${gateway_args[@]}" \
    >"$DIR/gw.out" 2>"$DIR/gw.err" &
  local gw_pid=$!
  pids+=($gw_pid)
  local gw
  if ! gw=$(listening "$DIR/gw.out" $gw_pid); then
    fail "$name: the image's b24gate did not start with ${gateway_args[*]}"; cat "$DIR/gw.err" >&2
    kill -TERM $gw_pid 2>/dev/null
    return
  fi
  local uid
  uid=$(awk '/^Uid:/ {print $2}' /proc/$gw_pid/status 2>/dev/null)
  if [[ $uid == "$IMAGE_USER" ]]; then pass "$name: b24gate runs as uid $uid"; else fail "$name: b24gate runs as uid $uid"; fi

  if bufcurl "http://$gw/grpc.health.v1.Health/Check" >"$DIR/health" 2>&1 && grep -q '"status": "SERVING"' "$DIR/health"; then
    pass "$name: Health/Check SERVING"
  else
    fail "$name: Health/Check"; cat "$DIR/health" >&2
  fi
  if [[ -z $first ]]; then
    first=registered
    if bufcurl "http://$gw/bitrix24.gateway.v1.AdminService/AddPortal" \
        -d "{\"name\":\"$first\",\"credentials\":{\"webhookUrl\":\"http://$EMU/rest/1/image-test/\"}}" \
        >"$DIR/add" 2>&1; then
      pass "$name: AddPortal \"$first\" through the image"
    else
      fail "$name: AddPortal"; cat "$DIR/add" >&2
    fi
  fi
  if bufcurl "http://$gw/bitrix24.gateway.v1.GatewayService/Call" \
      -d "{\"portal\":\"$first\",\"method\":\"crm.lead.list\",\"params\":{\"select\":[\"ID\",\"TITLE\"]}}" \
      >"$DIR/call" 2>"$DIR/call.err" && node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        process.exit(Array.isArray(r.result) && r.result.length === 50 && String(r.total) === "120" ? 0 : 1);' "$DIR/call"; then
    pass "$name: Call crm.lead.list on portal \"$first\" through the image: 50 leads of 120"
  else
    fail "$name: Call crm.lead.list"; cat "$DIR/call.err" >&2; head -c 1000 "$DIR/call" >&2
  fi
  # The inbound endpoint takes a post carrying the portal's application
  # token (read from its file) into its events log on the image's volume,
  # and refuses a forged one.
  if [[ -n $inbound ]]; then
    local events form code forged
    events=$(sed -n 's/^events on //p' "$DIR/gw.out" | head -1)
    form="event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=1&auth%5Bapplication_token%5D"
    code=$(curl -s -o /dev/null -w '%{http_code}' --data "$form=not-a-real-secret" "http://$events/events/$first")
    forged=$(curl -s -o /dev/null -w '%{http_code}' --data "$form=forged" "http://$events/events/$first")
    if [[ $code == 200 && $forged == 403 ]]; then
      pass "$name: the inbound endpoint stores a post with the portal's token (200) and refuses a forged one (403)"
    else
      fail "$name: inbound endpoint at '$events' answered $code to the portal's token and $forged to a forged one"
    fi
  fi
  # With --redis the gateway keeps its shared state (budgets, cached
  # answers) in that Redis.
  if [[ " ${gateway_args[*]} " == *" --redis "* && -n $REDIS_URL ]]; then
    local keys
    keys=$(redis-cli -u "$REDIS_URL" --scan --pattern 'b24gate:*' 2>/dev/null | wc -l)
    if ((keys > 0)); then
      pass "$name: shared state in the Redis --redis names ($keys keys)"
    else
      fail "$name: nothing in the Redis --redis names"
    fi
  fi

  # The alerts of the PrometheusRule query metrics this binary exports: after
  # a list call and an unknown method every one of them has a series, except
  # those that need an event this test does not cause.
  if [[ -n $metrics_port ]]; then
    bufcurl "http://$gw/bitrix24.gateway.v1.GatewayService/Call" \
      -d "{\"portal\":\"$first\",\"method\":\"no.such.method\"}" >/dev/null 2>&1
    node -e '
      require("http").get(process.argv[1], (r) => { r.pipe(process.stdout); })
        .on("error", (e) => { console.error(e.message); process.exit(1); });' \
      "http://127.0.0.1:$metrics_port/metrics" >"$DIR/metrics" 2>"$DIR/metrics.err"
    local missing=() metric
    for metric in $(grep -o 'b24gate_[a-z_]*' "$ROOT/deploy/kubernetes/base/prometheus-rule.yaml" | sort -u); do
      grep -q "^$metric[{ ]" "$DIR/metrics" && continue
      case $metric in
        b24gate_outcome_unknown_total) echo "note: $metric has no series yet (no write had an unknown outcome)" ;;
        *) missing+=("$metric") ;;
      esac
    done
    if ((${#missing[@]} == 0)) && [[ -s $DIR/metrics ]]; then
      pass "$name: /metrics has every metric the alerts query"
    else
      fail "$name: alerts query metrics that /metrics lacks: ${missing[*]:-(no /metrics answer)}"
      cat "$DIR/metrics.err" >&2
    fi
  fi

  # SIGTERM: drains and exits 0.
  kill -TERM $gw_pid
  local status
  wait $gw_pid
  status=$?
  if ((status == 0)); then pass "$name: SIGTERM -> exit 0"; else fail "$name: exit status $status after SIGTERM"; fi
  if grep -q "image-test" "$DIR/gw.out" "$DIR/gw.err"; then
    fail "$name: the webhook code appears in the gateway's output"
  fi
}

for c in "${cases[@]}"; do
  IFS="|" read -r label args config <<<"$c"
  run_case "$label" "$args" "$config"
done

if ((failures)); then
  echo "$failures check(s) failed; last gateway log:" >&2
  cat "$DIR/gw.err" >&2
  exit 1
fi
echo "all image checks passed"
