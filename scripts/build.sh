#!/usr/bin/env bash
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Installs missing dependencies (scripts/setup.sh), configures a Release build with Ninja and
# builds it with one job per core. BUILD_DIR defaults to "build"; a relative BUILD_DIR is taken
# relative to the repository root, so the script works from any directory. If the first argument
# starts with "-" it is taken as a cmake argument and BUILD_DIR keeps its default.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BUILD_DIR="build"
if [[ $# -gt 0 && "$1" != -* ]]; then
  BUILD_DIR="$1"
  shift
fi
if [[ "$BUILD_DIR" != /* ]]; then
  BUILD_DIR="$ROOT/$BUILD_DIR"
fi

"$ROOT/scripts/setup.sh"

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
