#!/usr/bin/env bash
# The project's Python environment:
#   scripts/pyenv.sh [VENV_DIR]            (default .venv in the repository)
#   scripts/pyenv.sh [VENV_DIR] --package  (also pip install the spikefly package)
# A virtual environment of Debian's python3 that sees its system packages,
# so that torch is Debian's CPU build (python3-torch, which scripts/setup.sh
# installs: 50 MB, where PyPI's wheel brings 3-6 GB of CUDA libraries),
# plus from PyPI what is missing of: numpy, safetensors, tensorboard (the
# interoperability checks), cffi, gymnasium, snntorch, pytest and
# scikit-build-core (the package and its tests). --package then builds and
# installs this repository's package (pip install ., CMake's build in
# build/wheel, so a second install rebuilds only what changed).
# Exits non-zero with a message when that cannot be done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv}
package=${2:-}
modules="numpy safetensors tensorboard cffi gymnasium snntorch pytest scikit_build_core torch"
packages=(numpy safetensors tensorboard cffi "gymnasium>=1.0" snntorch pytest "scikit-build-core>=0.10")
# Debian's interpreter (where python3-torch lives); another python3 otherwise.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)

ready() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "
import importlib, sys
for m in sys.argv[1:]: importlib.import_module(m)" $modules 2>/dev/null
}

mkdir -p "$(dirname "$venv")"
# Two tests may ask at once: one builds, the other waits for it.
exec 9>"$venv.lock"
flock 9
if ! ready; then
  if [ ! -x "$venv/bin/python" ] && ! "$py" -m venv --system-site-packages "$venv"; then
    echo "pyenv: '$py -m venv $venv' failed (is python3-venv installed?)" >&2
    rm -rf "$venv"
    exit 1
  fi
  echo "pyenv: installing what is missing of ${packages[*]} into $venv" >&2
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"; then
    echo "pyenv: pip could not install ${packages[*]} into $venv (no network to PyPI?)" >&2
    exit 1
  fi
  ready || { echo "pyenv: one of $modules is still not importable from $venv (torch: apt-get install python3-torch)" >&2; exit 1; }
fi
if [ "$package" = --package ]; then
  echo "pyenv: pip install $root into $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation \
    --config-settings=build-dir="$root/build/wheel" "$root"
fi
