"""Checkpoints as torch modules.

`load(path)` gives a trained actor as a `torch.nn.Module`: a spiking actor
built from snnTorch layers (Linear -> Leaky -> ... -> Linear -> tanh, each
Leaky with the checkpoint's per-neuron beta and threshold, subtractive
delayed reset and the fast-sigmoid surrogate at the agent's slope), or an
ANN actor / guide as a plain torch MLP. `load(path, part="critic1")` gives a
critic (or any other MLP in the file) as a plain MLP.

The C loader checks the file first (its checksum, names, shapes, finite
values), so a damaged checkpoint fails here with the same message as
`spikefly eval`.
"""
import numpy as np

from ._native import ACT_DIM, OBS_DIM, PRIV_DIM, ErrorBuffer, ffi, lib, ptr, wptr

_INPUTS = ("obs", "obs_hist", "priv")


def _torch():
    try:
        import torch
        import snntorch
        from snntorch import surrogate
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"spikefly.load needs torch and snntorch: {e}") from e
    return torch, snntorch, surrogate


def _check(path):
    """The C loader's checks of the file (checksum, names, shapes, finite
    values): a damaged checkpoint fails with `spikefly eval`'s message."""
    err, desc = ErrorBuffer(), ffi.new("char[]", 256)
    handle = lib.sf_py_actor_load(str(path).encode(), 0, desc, 256, err.buf, err.size)
    if handle == ffi.NULL:
        raise ValueError(f"{path}: {err.text()}")
    lib.sf_py_actor_free(handle)


def _read(path, part):
    """The file's metadata, the network's tensor prefix (`part`, or the
    actor's name), every tensor name, and the tensors of that network and
    the slopes (numpy). Only those are read: a training checkpoint also
    holds its replay buffer."""
    from safetensors import safe_open

    _check(path)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
        prefix = part or meta.get("spikefly.actor_name", "actor")
        names = list(f.keys())
        tensors = {k: f.get_tensor(k) for k in names if k.startswith(prefix + ".") or k == "slope.state"}
    return meta, prefix, names, tensors


def _layers(tensors, names, prefix, agent):
    """fc1..fcK weights and biases of `prefix` for one agent."""
    layers = []
    while f"{prefix}.fc{len(layers) + 1}.weight" in tensors:
        i = len(layers) + 1
        w, b = tensors[f"{prefix}.fc{i}.weight"], tensors[f"{prefix}.fc{i}.bias"]
        if agent >= w.shape[0]:
            raise ValueError(f"agent {agent}: the checkpoint holds {w.shape[0]} agents")
        layers.append((w[agent], b[agent]))
    if not layers:
        nets = sorted({k.rsplit(".fc", 1)[0] for k in names if ".fc" in k})
        raise ValueError(f"no network named {prefix!r} in the checkpoint; it holds {nets}")
    return layers


def _linear(torch, w, b):
    lin = torch.nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.array(w, np.float32)))
        lin.bias.copy_(torch.from_numpy(np.array(b, np.float32)))
    return lin


def _spiking_actor_class():
    torch, snntorch, surrogate = _torch()

    class SpikingActor(torch.nn.Module):
        """The spiking actor: fc1 -> lif1 -> fc2 -> lif2 -> ... -> readout -> tanh.

        - `forward(x, mem=None)`: one control step for a batch [B][in];
          returns (actions [B][4], mem), mem the list of membranes to pass
          to the next step (None: an episode's start).
        - `sequence(x)`: [T][B][in] from an episode's start -> [T][B][4].
        `input` says what x is: "obs" (the 18 noisy values), "obs_hist"
        (obs and the last 32 actions) or "priv" (146).
        """

        def __init__(self, layers, betas, thresholds, slope, input_kind):
            super().__init__()
            self.input = input_kind
            self.slope = float(slope)
            self.fc = torch.nn.ModuleList(_linear(torch, w, b) for w, b in layers)
            self.lif = torch.nn.ModuleList(
                snntorch.Leaky(beta=torch.from_numpy(np.array(be, np.float32)),
                               threshold=torch.from_numpy(np.array(th, np.float32)), learn_beta=True,
                               learn_threshold=True, spike_grad=surrogate.fast_sigmoid(slope=self.slope),
                               reset_mechanism="subtract", init_hidden=False)
                for be, th in zip(betas, thresholds))

        def forward(self, x, mem=None):
            y, mem = self.readout(x, mem)
            return torch.tanh(y), mem

        def readout(self, x, mem=None):
            """One step before the tanh: (readout [B][4], membranes)."""
            if mem is None:
                mem = [torch.zeros(x.shape[0], lif.threshold.shape[0], dtype=x.dtype, device=x.device)
                       for lif in self.lif]
            out, h = [], x
            for fc, lif, m in zip(self.fc, self.lif, mem):
                h, m = lif(fc(h), m)
                out.append(m)
            return self.fc[-1](h), out

        def sequence(self, x):
            mem, ys = None, []
            for t in range(x.shape[0]):
                y, mem = self(x[t], mem)
                ys.append(y)
            return torch.stack(ys)

    class FrameStackActor(torch.nn.Module):
        """A spiking actor in frame-stack mode (train.frame_stack): at every
        control step the SNN (`net`, a SpikingActor) starts from rest, sees
        the last `frames` inputs side by side, oldest first, for `substeps`
        steps, and acts on tanh of its readout averaged over them.

        - `forward(stack)`: stack [B][frames * in] -> actions [B][4];
          `last_mem` then holds the membranes of the last sub-step.
        - `sequence(x)`: [T][B][in] from an episode's start -> [T][B][4];
          the first input fills the older slots, as in flight.
        """

        def __init__(self, net, frames, substeps):
            super().__init__()
            self.net, self.frames, self.substeps = net, int(frames), int(substeps)
            self.input = net.input
            self.last_mem = None

        def forward(self, stack):
            mem, total = None, None
            for _ in range(self.substeps):
                y, mem = self.net.readout(stack, mem)
                total = y if total is None else total + y
            self.last_mem = mem
            return torch.tanh(total / self.substeps)

        def sequence(self, x):
            ys = []
            for t in range(x.shape[0]):
                older = [x[max(t - self.frames + 1 + f, 0)] for f in range(self.frames)]
                ys.append(self(torch.cat(older, dim=-1)))
            return torch.stack(ys)

    SpikingActor.FrameStack = FrameStackActor
    return SpikingActor


def _mlp_class():
    torch, _, _ = _torch()

    class MLP(torch.nn.Module):
        """Linear layers with ReLU between them, optionally tanh on the output
        (actors and the guide: yes; critics: no). A critic's input is the
        privileged observation (146) followed by the action (4)."""

        def __init__(self, layers, tanh_out, input_kind=None):
            super().__init__()
            self.input = input_kind
            self.tanh_out = tanh_out
            self.fc = torch.nn.ModuleList(_linear(torch, w, b) for w, b in layers)

        def forward(self, x):
            for i, fc in enumerate(self.fc):
                x = fc(x)
                if i + 1 < len(self.fc):
                    x = torch.relu(x)
            return torch.tanh(x) if self.tanh_out else x

    return MLP


def describe(path):
    """The checkpoint's metadata as a dict (spikefly.* keys)."""
    from safetensors import safe_open

    _check(path)
    with safe_open(str(path), framework="numpy") as f:
        return dict(f.metadata() or {})


def load(path, agent=0, part=None):
    """A network of a spikefly checkpoint as a torch module (eval mode).

    path: a training run's checkpoint.safetensors or a guide file; agent: the
    agent of a sweep (0 .. agents-1); part: None for the actor (or the guide
    in a guide file), "target." + that for its target copy, or another MLP's
    name such as "critic1", "critic2", "target.critic1". A frame-stack
    actor (train.frame_stack) comes as a FrameStackActor around the spiking
    network: forward(stack [B][frames * in]) and sequence(x [T][B][in]).
    """
    if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)) or agent < 0:
        raise ValueError(f"agent must be an int >= 0, got {agent!r}")
    meta, prefix, names, tensors = _read(path, part)
    desc = meta.get("spikefly.actor", "")
    name = meta.get("spikefly.actor_name", "actor")
    layers = _layers(tensors, names, prefix, int(agent))
    if prefix not in (name, "target." + name):
        return _mlp_class()(layers, tanh_out=False).eval()
    kind, input_kind, _, stack = (desc.split(":") + ["", "", "", ""])[:4]
    frames = substeps = 0
    if stack:
        try:
            frames, substeps = (int(v) for v in stack.removeprefix("stack=").split("x"))
        except ValueError:
            raise ValueError(f"{path}: unknown actor description {desc!r}") from None
    if input_kind not in _INPUTS:
        raise ValueError(f"{path}: unknown actor description {desc!r}")
    if kind == "mlp":
        return _mlp_class()(layers, tanh_out=True, input_kind=input_kind).eval()
    if kind != "snn":
        raise ValueError(f"{path}: unknown actor description {desc!r}")
    nlif = len(layers) - 1
    betas = [tensors[f"{prefix}.lif{i}.beta"][agent] for i in range(1, nlif + 1)]
    thresholds = [tensors[f"{prefix}.lif{i}.threshold"][agent] for i in range(1, nlif + 1)]
    slope = float(tensors["slope.state"][agent][0]) if "slope.state" in tensors else 1.0
    cls = _spiking_actor_class()
    net = cls(layers, betas, thresholds, slope, input_kind)
    return (cls.FrameStack(net, frames, substeps) if frames else net).eval()


class Policy:
    """A checkpoint's actor stepped by the C engine, exactly as `spikefly
    eval` and training's rollouts step it (the reference for `load`).

    policy = Policy(path, agent=0); actions = policy(obs, priv, reset)
    obs [n][18], priv [n][146] (needed when policy.input is not "obs"),
    reset: bool [n], the envs that start an episode at this step (None:
    none; the first call and a change of n start every env)."""

    def __init__(self, path, agent=0):
        if isinstance(agent, bool) or not isinstance(agent, (int, np.integer)) or agent < 0:
            raise ValueError(f"agent must be an int >= 0, got {agent!r}")
        err, desc = ErrorBuffer(), ffi.new("char[]", 256)
        handle = lib.sf_py_actor_load(str(path).encode(), int(agent), desc, 256, err.buf, err.size)
        if handle == ffi.NULL:
            raise ValueError(f"{path}: {err.text()}")
        self._handle = ffi.gc(handle, lib.sf_py_actor_free)
        self.description = ffi.string(desc).decode()
        self.input = self.description.split(":")[1]

    @staticmethod
    def _rows(name, a, width, n=None):
        a = np.asarray(a)
        if a.dtype.kind != "f":
            raise TypeError(f"{name} must be float32 (or another float dtype), got {a.dtype}")
        if a.ndim != 2 or a.shape[1] != width or (n is not None and a.shape[0] != n):
            want = f"({n if n is not None else 'n'}, {width})"
            raise ValueError(f"{name} must have shape {want}, got {a.shape}")
        a = np.ascontiguousarray(a, dtype=np.float32)
        if not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite")
        return a

    def __call__(self, obs, priv=None, reset=None):
        obs = self._rows("obs", obs, OBS_DIM)
        n = obs.shape[0]
        if priv is not None:
            priv = self._rows("priv", priv, PRIV_DIM, n)
        elif self.input != "obs":
            raise ValueError(f"this actor reads {self.input!r}: pass priv (info['privileged'])")
        if reset is not None:
            reset = np.asarray(reset)
            if reset.dtype != np.bool_ or reset.shape != (n,):
                raise ValueError(f"reset must be a bool array of shape ({n},), got {reset.dtype} {reset.shape}")
            reset = np.ascontiguousarray(reset.view(np.uint8))
        out = np.empty((n, ACT_DIM), np.float32)
        err = ErrorBuffer()
        if lib.sf_py_actor_step(self._handle, n, ptr(obs, "float *"), ptr(priv, "float *"),
                                ptr(reset, "uint8_t *"), wptr(out, "float *"), err.buf, err.size) != 0:
            raise RuntimeError(err.text())
        return out


def actor_input(obs, priv, kind):
    """The actor's input from the two observations (numpy): obs [B][18], priv
    [B][146]. "obs_hist" is obs followed by the last 32 actions, which are
    priv's last 128 values."""
    if kind == "obs":
        return obs
    if kind == "priv":
        return priv
    if kind == "obs_hist":
        return np.concatenate([obs, priv[:, 18:]], axis=1)
    raise ValueError(f"unknown actor input {kind!r}")


__all__ = ["load", "describe", "actor_input", "Policy"]
