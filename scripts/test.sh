#!/usr/bin/env bash
# README command 2 (and CI's): installs what is missing, builds everything,
# checks the proto with buf, and runs every test with ctest, as many at a time
# as JOBS cores hold (2 x JOBS of the tests that mostly wait, JOBS of those
# that keep a core busy, the few marked RUN_SERIAL alone), while the fuzz targets
# build and run at the lowest priority. Ends with the line "N passed, N failed"
# for the ctest run, after the time and the CPU (user+sys) each phase took
# (install, build, buf checks, ctest, fuzz, total); exits non-zero on any
# failure.
#
#   JOBS=2         build and ctest parallelism
#   CTEST_ARGS=..  extra ctest arguments, e.g. CTEST_ARGS="-L e2e" or "-R buf_curl"
#   FUZZ_SECONDS=20  run time of each fuzz target (scripts/fuzz.sh); 0 skips fuzzing
#   KEPT_LOG_LINES=200  lines printed from the end of each kept log of a failed test
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build}

# Phase durations and CPU, printed at the end: "install 0:41  cpu 0:12".
# The CPU is user+sys of the processes the phase ran (bash's `times`): on a
# shared, loaded machine it says what the phase cost, where the wall time says
# mostly how busy the machine was. The fuzz build and runs, which go on beside
# buf and ctest, count on the fuzz line alone (see below).
cpu_times=$(mktemp -t b24gate-times.XXXXXX)
trap 'rm -f "$cpu_times" ${log:-} ${fuzz_log:-}' EXIT
# Sets children_cpu: the children's user+sys so far, in whole seconds
# ("times" prints "0m1.500s").
children_cpu=0
count_children_cpu() {
  times >"$cpu_times"  # in this shell, not in a $(...) subshell of its own
  children_cpu=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); n += a[1] * 60 + a[2] }
                                printf "%d", n }' "$cpu_times")
}
phases=()
phase_start=$SECONDS
phase_cpu=0
# end_phase NAME [CPU]: CPU seconds spent outside this shell's children added.
end_phase() {
  local took=$((SECONDS - phase_start)) cpu
  count_children_cpu
  cpu=$((children_cpu - phase_cpu))
  phase_cpu=$((phase_cpu + cpu))
  cpu=$((cpu + ${2:-0}))
  phases+=("$(printf '%-8s %d:%02d  cpu %d:%02d' "$1" $((took / 60)) $((took % 60)) $((cpu / 60)) $((cpu % 60)))")
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
#
# It is not a child of this shell (the process substitution's process starts
# it and exits), so its CPU does not land in whichever phase it happens to end
# in: it writes its exit status and its own CPU, "STATUS SECONDS", to the
# pipe read after ctest, which also waits for it.
fuzz_done=
if ((FUZZ_SECONDS > 0)) && command -v clang++ >/dev/null 2>&1; then
  fuzz_log=$(mktemp -t b24gate-fuzz.XXXXXX)
  exec {fuzz_done}< <(
    {
      status=0
      JOBS=$JOBS nice -n 19 bash scripts/fuzz.sh "$FUZZ_SECONDS" >"$fuzz_log" 2>&1 || status=$?
      cpu_times=$fuzz_log.times  # not the main shell's file
      count_children_cpu
      rm -f "$cpu_times"
      echo "$status $children_cpu"
    } &
  )
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
set +e
# --timeout applies only to tests that set no TIMEOUT of their own. ctest's
# slots are half cores: a test that keeps a core busy takes two (PROCESSORS 2,
# b24gate_busy_tests in tests/CMakeLists.txt), one that mostly waits one.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j $((2 * JOBS)) --timeout 600 ${CTEST_ARGS:-} 2>&1 | tee "$log"
ctest_status=${PIPESTATUS[0]}
set -e
# A failed test keeps its output, with the log lines of the gateways and
# emulators it started, in $BUILD_DIR/test-logs/NAME (a passed one removes
# its directory; tests/support/kept_logs.h). CI's machine is gone once the run
# ends, so the end of each kept file goes into this log too, with the command
# that reruns the test alone. ctest printed the output's start already (it
# cuts a failed test's output after 300 KB).
KEPT_LOG_LINES=${KEPT_LOG_LINES:-200}
print_kept_logs() {
  local failed=$BUILD_DIR/Testing/Temporary/LastTestsFailed.log name dir file
  [[ -s $failed ]] || return 0
  while IFS=: read -r _ name; do
    dir=$BUILD_DIR/test-logs/$name
    echo "== failed: $name"
    echo "rerun it alone: ctest --test-dir $BUILD_DIR -R '^$name\$' --output-on-failure"
    if [[ ! -d $dir ]]; then
      echo "(no logs kept: not a gtest binary's test)"
      continue
    fi
    while IFS= read -r file; do
      echo "-- last $KEPT_LOG_LINES lines of $file"
      tail -n "$KEPT_LOG_LINES" "$file"
    done < <(find "$dir" -type f | sort)
  done <"$failed"
}
if ((ctest_status != 0)); then print_kept_logs; fi
end_phase ctest

# Each fuzz target replays its corpus (seeds and regressions) and fuzzes for
# FUZZ_SECONDS (default 20; 0 skips), JOBS targets at a time. This phase is
# what is left of that after ctest.
fuzz_cpu=0
if [[ -n $fuzz_done ]]; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  fuzz_status=
  read -r fuzz_status fuzz_cpu <&"$fuzz_done" || true
  [[ $fuzz_cpu =~ ^[0-9]+$ ]] || fuzz_cpu=0
  exec {fuzz_done}<&-
  if [[ $fuzz_status == 0 ]]; then
    grep -E '^fuzz: ' "$fuzz_log" || true
  else
    # A build error or the failed targets' last lines and how to replay them.
    tail -n 80 "$fuzz_log" >&2
    problems+=("fuzz")
  fi
else
  echo "== fuzz: skipped (FUZZ_SECONDS=$FUZZ_SECONDS, clang++ $(command -v clang++ || echo missing))"
fi
end_phase fuzz "$fuzz_cpu"

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
count_children_cpu
all_cpu=$((children_cpu + fuzz_cpu))
printf '%-8s %d:%02d  cpu %d:%02d\n' total $((SECONDS / 60)) $((SECONDS % 60)) $((all_cpu / 60)) $((all_cpu % 60))
if ((${#problems[@]})); then
  echo "FAILED: ${problems[*]}" >&2
fi
echo "$passed passed, $failed failed"
((${#problems[@]} == 0))
