#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, then runs each for a while.
#
#   scripts/fuzz.sh [--build-only | --no-build] [SECONDS] [TARGET...]
#
# --build-only stops after the build; --no-build runs what an earlier
# --build-only built (scripts/test.sh builds while ctest runs, then fuzzes).
# SECONDS per target (default 300); TARGETs default to all of them
# (query_encoder_fuzz portal_answer_fuzz call_response_fuzz batch_response_fuzz
# batch_plan_fuzz json_value_fuzz config_fuzz list_cursor_fuzz sync_protocol_fuzz inbound_post_fuzz
# http_request_reader_fuzz).
# Each run first replays the seed and regression inputs in
# tests/fuzz/corpus/TARGET/, then mutates them
# (inputs up to FUZZ_MAX_LEN bytes, default 4096); new interesting inputs go
# to build-fuzz/corpus/TARGET/ (copy the useful ones into the repo's
# corpus). A crash, leak, sanitizer report or failed property stops the
# target, saves the input as build-fuzz/artifacts/TARGET-crash-..., prints
# how to replay it, and makes the script exit non-zero.
#
#   JOBS=2           build parallelism, and how many targets fuzz at once
#   FUZZ_BUILD_DIR   build directory (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
run=1
case ${1:-} in
  --build-only) run=0; shift ;;
  --no-build) build=0; shift ;;
esac
SECONDS_PER_TARGET=${1:-300}
shift || true
ALL_TARGETS=(query_encoder_fuzz portal_answer_fuzz call_response_fuzz batch_response_fuzz batch_plan_fuzz
             json_value_fuzz config_fuzz list_cursor_fuzz sync_protocol_fuzz inbound_post_fuzz
             http_request_reader_fuzz)
if (($#)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
JOBS=${JOBS:-2}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs clang)" >&2
  exit 1
fi

# Every library the targets link is instrumented (coverage for libFuzzer,
# ASan, UBSan); UB is fatal so that it counts as a crash. -O1 with line
# tables only, as OSS-Fuzz builds: reports still name file:line, and the
# build takes about a quarter less CPU than -O2 -g.
SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
SAN_FLAGS+=" -fno-omit-frame-pointer"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
  # As in scripts/build.sh: on CI, a fresh clone's path does not count, so it
  # hits the objects an earlier clone's fuzz build left (without this, every
  # CI run compiled the fuzz build again: the line tables name the directory).
  if [[ ${CI:-} == true ]]; then export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}; fi
  # No second preprocessor run on a miss (see scripts/build.sh).
  [[ -n ${CCACHE_NODEPEND:-} ]] || export CCACHE_DEPEND=1
fi
if ((build)); then
  echo "== fuzz: build (${BUILD_DIR})"
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DB24GATE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_CXX_FLAGS="$SAN_FLAGS" "${launcher[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"
fi
((run)) || exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Fuzzes one target (replay, then mutation); prints one line with the
# outcome and leaves $BUILD_DIR/TARGET.failed behind when it failed.
fuzz_one() {
  local target=$1
  local bin=$BUILD_DIR/tests/fuzz/$target
  local seeds=tests/fuzz/corpus/$target
  local work=$BUILD_DIR/corpus/$target
  local artifacts=$BUILD_DIR/artifacts
  local log=$BUILD_DIR/$target.log
  mkdir -p "$work" "$artifacts" "$seeds"
  local dict=()
  [[ -f tests/fuzz/$target.dict ]] && dict=(-dict="tests/fuzz/$target.dict")
  local inputs
  mapfile -t inputs < <(find "$seeds" -type f | sort)
  echo "== fuzz: $target for ${SECONDS_PER_TARGET}s (${#inputs[@]} seed inputs)"
  # Every seed and regression input runs once at full length first (some
  # regressions are larger than the fuzzing length limit below); given files
  # rather than directories, libFuzzer runs each once and stops.
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway
  # allocation is a bug too. The work corpus comes first: new inputs go there.
  : >"$log"
  if { ((${#inputs[@]} == 0)) ||
       "$bin" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/$target-" \
         "${inputs[@]}" >>"$log" 2>&1; } &&
     "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
       "${dict[@]}" "$work" "$seeds" >>"$log" 2>&1; then
    local runs added
    runs=$(grep -oE '^Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+')
    added=$(grep -oE 'new_units_added: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    echo "fuzz: $target ok: ${runs:-?} inputs in ${SECONDS_PER_TARGET}s, ${added:-0} new in $work"
  elif timeout_recurs_alone "$bin" "$log"; then
    echo "fuzz: $target FAILED" >&2
    touch "$BUILD_DIR/$target.failed"
  fi
}

# A timeout is a hang only if its input also passes the bound run alone: the
# job runs at the lowest priority beside ctest, and a unit starved of CPU
# for 10 s (seen in ASan's free) is the machine's, not the code's. Returns
# 0 (a failure to report) for anything else that failed.
timeout_recurs_alone() {
  local bin=$1 log=$2 unit
  grep -q 'ERROR: libFuzzer: timeout' "$log" || return 0
  unit=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
  [[ -n $unit && -f $unit ]] || return 0
  if "$bin" -timeout=10 -rss_limit_mb=2048 "$unit" >>"$log" 2>&1; then
    echo "fuzz: $target ok: a timeout under load that did not recur run alone ($unit)"
    rm -f "$unit"
    return 1
  fi
  return 0
}

# Each target is one single-threaded process: JOBS of them run at a time.
for target in "${TARGETS[@]}"; do
  rm -f "$BUILD_DIR/$target.failed"
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
  fuzz_one "$target" &
done
wait

failed=()
for target in "${TARGETS[@]}"; do
  [[ -f $BUILD_DIR/$target.failed ]] || continue
  failed+=("$target")
  bin=$BUILD_DIR/tests/fuzz/$target
  log=$BUILD_DIR/$target.log
  echo "fuzz: $target FAILED; last lines of $log:" >&2
  tail -n 40 "$log" >&2
  crash=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
  if [[ -z $crash ]]; then
    crash=$(grep -oE "^Running: [^ ]+" "$log" | tail -1 | sed 's/Running: //')
  fi
  if [[ -n $crash ]]; then
    echo "fuzz: replay with: $bin $crash" >&2
    echo "fuzz: once fixed, keep it: cp $crash tests/fuzz/corpus/$target/regression-WHAT" >&2
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#TARGETS[@]} targets ran clean"
