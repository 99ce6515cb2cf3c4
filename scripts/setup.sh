#!/usr/bin/env bash
# Installs tapegrad's build dependencies from Debian packages, only those that are missing.
# Safe to run repeatedly: when everything is present it changes nothing and needs no network.
set -euo pipefail

PACKAGES=(
  cmake
  ninja-build
  g++
  ccache
  libeigen3-dev
  libtbb-dev
  libboost-serialization-dev
  libgtest-dev
  libbenchmark-dev
  nlohmann-json3-dev
  zlib1g-dev
  dataset-fashion-mnist
  libopenmpi-dev  # tapegrad::distributed (data-parallel training over MPI)
  openmpi-bin     # mpirun, for the MPI tests
)

# A package counts as present only when dpkg reports it fully installed (not e.g. removed with
# its config files left behind, which `dpkg -s` also knows about).
is_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup.sh: all ${#PACKAGES[@]} build dependencies are present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup.sh: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup.sh: installed ${missing[*]}"
