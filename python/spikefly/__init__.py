"""spikefly from Python: the batched Crazyflie simulator as gymnasium
environments, trained spiking controllers as snnTorch modules, and the
engine's commands (train, report, export, evaluate) in this process.

    import spikefly
    env = spikefly.VecEnv(4096, seed=0)             # gymnasium.vector.VectorEnv
    obs, info = env.reset(seed=1)
    run = spikefly.train("configs/quick.ini", out="runs/nb", guide="pid", epochs=20)
    actor = spikefly.load(run / "checkpoint.safetensors")   # torch.nn.Module (snnTorch Leaky layers)
"""
from ._native import ACT_DIM, LIB_PATH, OBS_DIM, PRIV_DIM, STATE_DIM, lib as _lib
from .checkpoint import Policy, actor_input, describe, load
from .commands import BadInputError, SpikeflyError, evaluate, export, report, run, train
from .env import Env, VecEnv

from ._native import ffi as _ffi

__version__ = _ffi.string(_lib.sf_py_version()).decode()

__all__ = [
    "VecEnv", "Env", "Policy", "load", "describe", "actor_input", "train", "report", "export", "evaluate", "run",
    "SpikeflyError", "BadInputError", "OBS_DIM", "PRIV_DIM", "ACT_DIM", "STATE_DIM", "LIB_PATH",
]
