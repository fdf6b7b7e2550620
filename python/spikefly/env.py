"""The batched Learning-to-Fly quadrotor (Crazyflie 2.1) as gymnasium
environments: `VecEnv` (a `gymnasium.vector.VectorEnv` over the C
simulator's batch) and `Env` (one quadrotor, a `gymnasium.Env`).

Observations are the 18 noisy values the drone has (position error, rotation
matrix, velocity error, angular velocity); `info["privileged"]` holds the
146-value privileged observation (the noise-free 18 and the last 32
actions) the guide and the critics read. Actions: 4 motor commands in
[-1, 1]. The numbers are the C simulator's, bit for bit, for the same seed
and actions: `spikefly train`'s environments are these.
"""
import numbers

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from ._native import ACT_DIM, OBS_DIM, PRIV_DIM, STATE_DIM, ErrorBuffer, ffi, lib, ptr, wptr

_MAX_SEED = 2**64 - 1


def _value_text(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, np.ndarray)):
        return ",".join(_value_text(key, v) for v in value)
    if isinstance(value, (numbers.Number, str)):
        return str(value)
    raise TypeError(f"{key}: a number, a string, a bool or a sequence of numbers, got {type(value).__name__}")


def _keys_text(model, sim, env_keys):
    """The environment's config keys as `spikefly` reads them (sim.*, env.*)."""
    lines = [f"sim.model={model}"]
    for k, v in (sim or {}).items():
        lines.append(f"sim.{k}={_value_text('sim.' + k, v)}")
    for k, v in env_keys.items():
        lines.append(f"env.{k}={_value_text('env.' + k, v)}")
    for line in lines:
        if "\n" in line:
            raise ValueError(f"a key or value holds a line break: {line!r}")
    return "\n".join(lines)


def _check_seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral,)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) <= _MAX_SEED:
        raise ValueError(f"seed must lie in [0, 2**64 - 1], got {seed}")
    return int(seed)


class _Sim:
    """The C environment: one agent's batch of quadrotors."""

    def __init__(self, num_envs, model, seed, sim, env_keys):
        if isinstance(num_envs, bool) or not isinstance(num_envs, numbers.Integral) or num_envs <= 0:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if not isinstance(model, str):
            raise TypeError(f"model must be a parameter set's name (e.g. 'cf21'), got {type(model).__name__}")
        self.n = int(num_envs)
        err = ErrorBuffer()
        keys = _keys_text(model, sim, env_keys).encode()
        handle = lib.sf_py_env_new(self.n, _check_seed(seed), keys, err.buf, err.size)
        if handle == ffi.NULL:
            raise ValueError(f"spikefly environment: {err.text()}")
        self.handle = ffi.gc(handle, lib.sf_py_env_free)
        self.time_limit = lib.sf_py_env_time_limit(self.handle)
        self.dt = lib.sf_py_env_dt(self.handle)

    def seed(self, seed):
        lib.sf_py_env_seed(self.handle, _check_seed(seed))

    def _outputs(self, privileged):
        obs = np.empty((self.n, OBS_DIM), np.float32)
        priv = np.empty((self.n, PRIV_DIM), np.float32) if privileged else None
        return obs, priv, wptr(obs, "float *"), wptr(priv, "float *") if privileged else ffi.NULL

    def reset(self, mask=None, privileged=True):
        obs, priv, po, pp = self._outputs(privileged)
        lib.sf_py_env_reset(self.handle, ptr(mask, "uint8_t *"), po, pp)
        return obs, priv

    def step(self, actions, reset=None, privileged=True):
        rew = np.empty(self.n, np.float32)
        term = np.empty(self.n, np.uint8)
        trunc = np.empty(self.n, np.uint8)
        obs, priv, po, pp = self._outputs(privileged)
        lib.sf_py_env_step(self.handle, ptr(actions, "float *"), ptr(reset, "uint8_t *"), wptr(rew, "float *"),
                           wptr(term, "uint8_t *"), wptr(trunc, "uint8_t *"), po, pp)
        return obs, rew, term.view(np.bool_), trunc.view(np.bool_), priv

    def states(self):
        out = np.empty((self.n, STATE_DIM), np.float32)
        lib.sf_py_env_states(self.handle, wptr(out, "float *"))
        return out

    @property
    def progress(self):
        return float(lib.sf_py_env_progress(self.handle))

    @progress.setter
    def progress(self, value):
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"progress must lie in [0, 1], got {value}")
        lib.sf_py_env_set_progress(self.handle, value)


def _actions(actions, shape):
    """Actions as a C-contiguous float32 array of `shape` (no copy when they are one)."""
    a = np.asarray(actions)
    if a.dtype.kind != "f":
        raise TypeError(f"actions must be floats (float32; float64 is converted), got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"actions must have shape {shape}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"actions must be finite: actions{tuple(int(i) for i in bad)} = {a[tuple(bad)]}")
    return a


class _Curriculum:
    """The reward's curriculum progress of an environment over _Sim."""

    @property
    def progress(self):
        """Curriculum progress of the reward coefficients, in [0, 1]."""
        return self._sim.progress

    @progress.setter
    def progress(self, value):
        self._sim.progress = value


_OBS_SPACE = spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)
_ACT_SPACE = spaces.Box(-1.0, 1.0, (ACT_DIM,), np.float32)


class VecEnv(_Curriculum, gym.vector.VectorEnv):
    """`num_envs` quadrotors stepped together by the C simulator.

    VecEnv(num_envs, model="cf21", seed=0, sim=None, autoreset_mode=NEXT_STEP, privileged=True,
           **env_keys)

    - model: the quadrotor's parameter set ("cf21", "l2f2023"); sim: more
      `sim.*` keys as a dict (e.g. {"mass": 0.03}).
    - env_keys: `env.*` keys of `spikefly` by name, e.g. time_limit=500,
      trajectory="figure8", reset_max_tilt_deg=30. A bad key or value raises
      ValueError naming it.
    - seed: the Philox key of every env's starts and observation noise
      (`reset(seed=...)` changes it); the same seed gives the same numbers
      as the C program.
    - autoreset_mode: gymnasium's NEXT_STEP (default: the step after an
      episode ended returns the reset observation, reward 0, and ignores
      that env's action) or SAME_STEP (reset at once; the final observation
      and info in info["final_obs"] and info["final_info"]).
    - privileged: whether info holds "privileged" (False saves computing it:
      146 values per env and step).
    - `progress` (settable, [0, 1]): curriculum progress of the reward.
    - `states()`: the true states [num_envs][17] (position, quaternion w x y
      z, velocity, angular velocity, motor states).
    """

    def __init__(self, num_envs, model="cf21", seed=0, sim=None, autoreset_mode=AutoresetMode.NEXT_STEP,
                 privileged=True, **env_keys):
        mode = AutoresetMode(autoreset_mode)
        if mode is AutoresetMode.DISABLED:
            raise ValueError("autoreset_mode: NEXT_STEP or SAME_STEP (reset(options={'reset_mask': m}) resets "
                             "chosen envs in either)")
        self._sim = _Sim(num_envs, model, seed, sim, env_keys)
        self._privileged = bool(privileged)
        self.num_envs = self._sim.n
        self.metadata = {"autoreset_mode": mode, "render_modes": []}
        self.render_mode = None
        self.single_observation_space = _OBS_SPACE
        self.single_action_space = _ACT_SPACE
        self.observation_space = batch_space(_OBS_SPACE, self.num_envs)
        self.action_space = batch_space(_ACT_SPACE, self.num_envs)
        self._pending = np.zeros(self.num_envs, np.uint8)  # NEXT_STEP: envs that reset on the next step
        self._started = False

    @property
    def time_limit(self):
        """Steps of an episode (then it is truncated)."""
        return self._sim.time_limit

    @property
    def dt(self):
        """Seconds per step."""
        return self._sim.dt

    def states(self):
        return self._sim.states()

    def _info(self, priv):
        if priv is None:
            return {}
        return {"privileged": priv, "_privileged": np.ones(self.num_envs, np.bool_)}

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            if isinstance(seed, (list, tuple, np.ndarray)):
                raise ValueError("seed: one int for all envs (each env draws its own streams from it), not a list")
            self._sim.seed(seed)
        mask = None
        if options:
            unknown = set(options) - {"reset_mask"}
            if unknown:
                raise ValueError(f"reset options: only 'reset_mask' is known, got {sorted(unknown)}")
            mask = np.asarray(options["reset_mask"])
            if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
                raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},), got "
                                 f"{mask.dtype} {mask.shape}")
            if not self._started and not mask.all():
                raise ValueError("the first reset resets every env: reset_mask must be all True")
            mask = np.ascontiguousarray(mask.view(np.uint8))
        obs, priv = self._sim.reset(mask, self._privileged)
        self._pending[:] = 0 if mask is None else self._pending * (1 - mask)
        self._started = True
        return obs, self._info(priv)

    def step(self, actions):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = _actions(actions, (self.num_envs, ACT_DIM))
        if self.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP:
            obs, rew, term, trunc, priv = self._sim.step(a, self._pending if self._pending.any() else None,
                                                         self._privileged)
            self._pending = (term | trunc).view(np.uint8).copy()
            return obs, rew, term, trunc, self._info(priv)
        obs, rew, term, trunc, priv = self._sim.step(a, None, self._privileged)
        info = self._info(priv)
        done = term | trunc
        if done.any():
            final_obs = np.empty(self.num_envs, dtype=object)
            final_info = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = obs[i].copy()
                final_info[i] = {} if priv is None else {"privileged": priv[i].copy()}
            obs, priv = self._sim.reset(np.ascontiguousarray(done.view(np.uint8)), self._privileged)
            info = self._info(priv)
            info.update(final_obs=final_obs, _final_obs=done.copy(), final_info=final_info, _final_info=done.copy())
        return obs, rew, term, trunc, info


class Env(_Curriculum, gym.Env):
    """One quadrotor as a `gymnasium.Env` (no autoreset: call reset after an
    episode ends). The same keys as VecEnv."""

    metadata = {"render_modes": []}

    def __init__(self, model="cf21", seed=0, sim=None, **env_keys):
        self._sim = _Sim(1, model, seed, sim, env_keys)
        self.observation_space = _OBS_SPACE
        self.action_space = _ACT_SPACE

    def state(self):
        """The true state [17]."""
        return self._sim.states()[0]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options:
            raise ValueError(f"reset options: none are known, got {sorted(options)}")
        if seed is not None:
            self._sim.seed(seed)
        obs, priv = self._sim.reset()
        return obs[0], {"privileged": priv[0]}

    def step(self, action):
        a = _actions(action, (ACT_DIM,)).reshape(1, ACT_DIM)
        obs, rew, term, trunc, priv = self._sim.step(a)
        return obs[0], float(rew[0]), bool(term[0]), bool(trunc[0]), {"privileged": priv[0]}
