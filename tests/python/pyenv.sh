#!/usr/bin/env bash
# Make the Python virtual environment the interoperability checks use:
#   tests/python/pyenv.sh VENV_DIR
# Creates VENV_DIR with `python3 -m venv` and installs safetensors, numpy and
# tensorboard from PyPI, only when they are not importable there already.
# Exits non-zero with a message when that cannot be done.
set -euo pipefail
venv=${1:?usage: pyenv.sh VENV_DIR}
packages=(safetensors numpy tensorboard)

ready() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import safetensors, numpy, tensorboard" 2>/dev/null; }
ready && exit 0

mkdir -p "$(dirname "$venv")"
# Two tests may ask at once: one builds, the other waits for it.
exec 9>"$venv.lock"
flock 9
ready && exit 0
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv"; then
    echo "pyenv: 'python3 -m venv $venv' failed (is python3-venv installed?)" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
echo "pyenv: installing ${packages[*]} into $venv" >&2
if ! "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"; then
  echo "pyenv: pip could not install ${packages[*]} into $venv (no network to PyPI?)" >&2
  exit 1
fi
ready || { echo "pyenv: ${packages[*]} still not importable from $venv" >&2; exit 1; }
