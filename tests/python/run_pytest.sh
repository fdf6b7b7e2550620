#!/usr/bin/env bash
# ctest driver of the Python package's tests:
#   tests/python/run_pytest.sh BUILD_DIR [pytest args...]   (default: python/tests)
# pytest over python/tests in the project's environment ($SF_PYENV, default
# .venv, made here when missing), importing the package from the source tree
# with BUILD_DIR's library, and comparing against BUILD_DIR's programs. Fails
# (never skips) without that environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run_pytest.sh BUILD_DIR}" && pwd)
shift
venv=${SF_PYENV:-$src/.venv}
if ! bash "$src/scripts/pyenv.sh" "$venv"; then
  echo "FAIL: no Python environment with the package's dependencies at $venv" >&2
  exit 1
fi
export SPIKEFLY_LIB=$build/libspikefly_py.so SPIKEFLY_CLI=$build/spikefly SPIKEFLY_ENV_REF=$build/sf_env_ref
export PYTHONPATH=$src/python${PYTHONPATH:+:$PYTHONPATH} SF_PYENV=$venv
cd "$src"
[ $# -gt 0 ] || set -- python/tests
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
