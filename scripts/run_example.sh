#!/usr/bin/env bash
# Usage: scripts/run_example.sh [fashion_mnist options]
# The main job: installs what is missing (Debian packages, including the Fashion-MNIST data set),
# builds tapegrad (scripts/build.sh, dir "build"), trains the Fashion-MNIST CNN, prints the
# progress and the test accuracy, and saves a checkpoint (fashion_mnist.ckpt). Stop it and run
# it again with --resume to continue where it stopped. --help lists the options.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# build.sh's output goes to stderr so that stdout carries only the example's own output.
"$ROOT/scripts/build.sh" "$ROOT/build" >&2
exec "$ROOT/build/examples/fashion_mnist" "$@"
