#!/usr/bin/env bash
# Configures and builds b24gate into build/ (RelWithDebInfo, ccache when
# installed). JOBS=N sets the parallelism (default 2); extra arguments are
# make targets (default: everything), e.g. `scripts/build.sh b24gate`.
# BENCHMARKS=ON also builds the benchmark drivers (scripts/bench.sh does);
# the build directory remembers it until BENCHMARKS=OFF. LINE_TABLES_ONLY=ON
# compiles the non-test code with line tables (-g1) instead of full debug
# info, about 30% less compile time (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

options=(-DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DB24GATE_LINE_TABLES_ONLY="${LINE_TABLES_ONLY:-OFF}")
if [[ -n ${BENCHMARKS:-} ]]; then options+=(-DB24GATE_BENCHMARKS="$BENCHMARKS"); fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the checkout, so another clone on this machine (CI
  # builds a fresh one each time) hits the same cache entries.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
  if [[ ${CI:-} == true ]]; then export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}; fi
  # Depend mode: on a miss (every file on a new machine) ccache takes the
  # headers a file read from the compiler's own -MD output instead of
  # running the preprocessor over it first, about 4% less CPU a file. Hits
  # are found as before, entries stored without it included.
  # CCACHE_NODEPEND=1 turns it off.
  [[ -n ${CCACHE_NODEPEND:-} ]] || export CCACHE_DEPEND=1
fi
cmake -S . -B "$BUILD_DIR" "${options[@]}" "${launcher[@]}" >/dev/null
if (($#)); then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@"
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi
