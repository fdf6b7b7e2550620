"""Shared fixtures of the package's tests.

The tests import the package from where the environment says: the source
tree with a build's library (SPIKEFLY_LIB=build/libspikefly_py.so and
PYTHONPATH=python, as tests/python/run_pytest.sh sets them) or an installed
package. The C references they compare against are the build's programs:
SPIKEFLY_CLI (the `spikefly` program) and SPIKEFLY_ENV_REF (sf_env_ref).
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _program(var, default):
    path = pathlib.Path(os.environ.get(var, ROOT / "build" / default))
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the project first (cmake --build build) or set {var}")
    return path


@pytest.fixture(scope="session")
def cli():
    return _program("SPIKEFLY_CLI", "spikefly")


@pytest.fixture(scope="session")
def env_ref():
    return _program("SPIKEFLY_ENV_REF", "sf_env_ref")


# A small spiking actor trained for a few epochs, in this process: enough
# updates that its neurons spike, small enough to take a second or two.
TINY = dict(guide="pid", epochs=4, envs=8, collect_steps=200, updates=20, batch=8, eval_every=2,
            eval_episodes=4, hidden=[64, 32])


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    import spikefly

    out = tmp_path_factory.mktemp("trained") / "snn"
    run = spikefly.train(out=out, **TINY)
    assert (run / "checkpoint.safetensors").is_file()
    return run
