#!/usr/bin/env bash
# ctest driver of one check against the real Python packages:
#   tests/python/run_check.sh CHECK SF_INTEROP
# runs check_CHECK.py with the virtual environment $SF_PYENV (default: the
# project's, .venv in the source tree, made by scripts/setup.sh; made here
# when missing). Without that environment the check fails: it never passes
# unchecked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
check=${1:?usage: run_check.sh CHECK SF_INTEROP}
interop=${2:?usage: run_check.sh CHECK SF_INTEROP}
venv=${SF_PYENV:-$src/.venv}

if ! bash "$src/scripts/pyenv.sh" "$venv"; then
  echo "FAIL: no Python environment with safetensors, numpy and tensorboard at $venv" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/check_$check.py" "$interop" "$work"
