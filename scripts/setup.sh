#!/usr/bin/env bash
# Install what is missing (Debian packages), then configure and build spikefly
# into build/. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages the build and the test suite need. EXTRA_PACKAGES adds more.
packages=(build-essential cmake pkg-config libinih-dev libopenblas-dev libgtest-dev gnuplot-nox python3-venv python3-torch ninja-build clang libclang-rt-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm libopenmpi-dev openmpi-bin ${EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The CUDA toolkit is optional: CMake builds the CUDA backend when it finds
# nvcc (on PATH or in /usr/local/cuda).
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${CMAKE_EXTRA_ARGS:-} >/dev/null
cmake --build build -j "$jobs"

# The project's Python environment (.venv: Debian's torch, the rest from
# PyPI) with the spikefly package installed; the python-labelled tests use
# it and fail (never skip) without it.
bash scripts/pyenv.sh .venv --package || echo "setup: no Python environment in .venv; the python tests will fail" >&2
