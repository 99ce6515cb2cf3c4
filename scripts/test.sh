#!/usr/bin/env bash
# Usage: scripts/test.sh
# Builds tapegrad (scripts/build.sh) and runs the whole test suite with ctest.
# TAPEGRAD_SANITIZE=1 builds into build-asan with AddressSanitizer + UndefinedBehaviorSanitizer
# (no benchmarks, no examples) and runs the suite there. TAPEGRAD_PORTABLE=1 builds into
# build-portable without -march=native (TAPEGRAD_NATIVE=OFF: no AVX-512 kernels, the fallback a
# CPU without them takes) and runs the suite there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${TAPEGRAD_SANITIZE:-0}" == "1" && "${TAPEGRAD_PORTABLE:-0}" == "1" ]]; then
  echo "test.sh: TAPEGRAD_SANITIZE and TAPEGRAD_PORTABLE are separate builds; set one" >&2
  exit 2
fi
if [[ "${TAPEGRAD_PORTABLE:-0}" == "1" ]]; then
  BUILD_DIR="$ROOT/build-portable"
  "$ROOT/scripts/build.sh" "$BUILD_DIR" \
    -DTAPEGRAD_NATIVE=OFF -DTAPEGRAD_BUILD_BENCH=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF
elif [[ "${TAPEGRAD_SANITIZE:-0}" == "1" ]]; then
  BUILD_DIR="$ROOT/build-asan"
  "$ROOT/scripts/build.sh" "$BUILD_DIR" \
    -DTAPEGRAD_SANITIZE=ON -DTAPEGRAD_BUILD_BENCH=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  BUILD_DIR="$ROOT/build"
  "$ROOT/scripts/build.sh" "$BUILD_DIR"
fi

# --no-tests=error: a suite that registered no test is a failure, not a silent pass.
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j"$(nproc)"
