#!/usr/bin/env bash
# Usage: scripts/run_example.sh [spirals_mlp args...]   (e.g. --epochs 100; --help lists them)
# Builds tapegrad (scripts/build.sh, dir "build") and runs the two-spirals MLP training example.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# build.sh's output goes to stderr so that stdout carries only the example's own output.
"$ROOT/scripts/build.sh" "$ROOT/build" >&2
exec "$ROOT/build/examples/spirals_mlp" "$@"
