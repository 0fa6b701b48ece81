#!/usr/bin/env bash
# README command 2 (and CI's): installs what is missing, builds everything,
# checks the proto with buf, and runs every test with ctest, JOBS at a time
# (the few end-to-end tests marked RUN_SERIAL alone), while the fuzz targets
# build and run at the lowest priority. Ends with the line "N passed, N failed"
# for the ctest run, after the time each phase took (install, build, buf
# checks, ctest, fuzz, total); exits non-zero on any failure.
#
#   JOBS=2         build and ctest parallelism
#   CTEST_ARGS=..  extra ctest arguments, e.g. CTEST_ARGS="-L e2e" or "-R buf_curl"
#   FUZZ_SECONDS=20  run time of each fuzz target (scripts/fuzz.sh); 0 skips fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build}

# Phase durations, printed at the end: "install 0:41".
phases=()
phase_start=$SECONDS
end_phase() {
  local took=$((SECONDS - phase_start))
  phases+=("$(printf '%-8s %d:%02d' "$1" $((took / 60)) $((took % 60)))")
  phase_start=$SECONDS
}

bash scripts/install-deps.sh
end_phase install
echo "== build"
# The tests need file:line in backtraces, not a debugger's view of variables.
LINE_TABLES_ONLY=ON JOBS=$JOBS BUILD_DIR=$BUILD_DIR bash scripts/build.sh
end_phase build

problems=()

# The fuzz targets' clang build (scripts/fuzz.sh, build-fuzz/) and then their
# runs go on at the lowest CPU priority while buf and ctest run: they take only
# the CPU the tests leave idle (end-to-end tests mostly wait on rate limits,
# timeouts and faults), so the tests see the cores as before. Each target
# still fuzzes for FUZZ_SECONDS. Their outcome is read after ctest.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
fuzz_pid=
if ((FUZZ_SECONDS > 0)) && command -v clang++ >/dev/null 2>&1; then
  fuzz_log=$(mktemp -t b24gate-fuzz.XXXXXX)
  JOBS=$JOBS nice -n 19 bash scripts/fuzz.sh "$FUZZ_SECONDS" >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
fi

BUF=node_modules/.bin/buf  # pinned by package-lock.json, installed by npm ci
echo "== buf lint"
if "$BUF" lint; then echo "buf lint: ok"; else problems+=("buf lint"); fi
echo "== buf build"
if "$BUF" build -o /dev/null; then echo "buf build: ok"; else problems+=("buf build"); fi
# The v1 API never breaks silently: compare with the image committed when v1
# was frozen (rebuild it with `buf build -o proto/v1-baseline.binpb` only for v2).
echo "== buf breaking"
if "$BUF" breaking --against proto/v1-baseline.binpb; then echo "buf breaking: ok"; else
  problems+=("buf breaking"); fi
echo "== generated clients"
if bash scripts/generate-clients.sh --check; then :; else problems+=("generated clients drift"); fi
end_phase buf

echo "== ctest"
log=$(mktemp -t b24gate-ctest.XXXXXX)
trap 'rm -f "$log" ${fuzz_log:-}' EXIT
set +e
# --timeout applies only to tests that set no TIMEOUT of their own.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 600 ${CTEST_ARGS:-} 2>&1 | tee "$log"
ctest_status=${PIPESTATUS[0]}
set -e
end_phase ctest

# Each fuzz target replays its corpus (seeds and regressions) and fuzzes for
# FUZZ_SECONDS (default 20; 0 skips), JOBS targets at a time. This phase is
# what is left of that after ctest.
if [[ -n $fuzz_pid ]]; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  if wait "$fuzz_pid"; then
    grep -E '^fuzz: ' "$fuzz_log" || true
  else
    # A build error or the failed targets' last lines and how to replay them.
    tail -n 80 "$fuzz_log" >&2
    problems+=("fuzz")
  fi
else
  echo "== fuzz: skipped (FUZZ_SECONDS=$FUZZ_SECONDS, clang++ $(command -v clang++ || echo missing))"
fi
end_phase fuzz

# "100% tests passed, 0 tests failed out of 57"
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
if [[ -n $summary ]]; then
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$summary")
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  passed=$((total - failed))
else
  passed=0
  failed=0
  problems+=("ctest ran no test (status $ctest_status)")
fi
if ((ctest_status != 0)); then problems+=("ctest"); fi

echo "== phase times (m:ss)"
printf '%s\n' "${phases[@]}"
printf '%-8s %d:%02d\n' total $((SECONDS / 60)) $((SECONDS % 60))
if ((${#problems[@]})); then
  echo "FAILED: ${problems[*]}" >&2
fi
echo "$passed passed, $failed failed"
((${#problems[@]} == 0))
