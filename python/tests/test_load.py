"""Checkpoints from Python: the C-stepped Policy against `spikefly eval`'s
flight log, the snnTorch module against the Policy, the guide's MLP."""
import csv
import subprocess

import numpy as np
import pytest
import torch

import spikefly

EVAL_SEED = 11
EVAL_ENVS = 6
# sf_eval_seed: evaluation environments use the agent's seed xor this.
EVAL_KEY = EVAL_SEED ^ 0x9E3779B97F4A7C15


def fly(policy, envs, steps=None):
    """Fly the policy as `spikefly eval` does (no resets: every env one
    episode); per step the observations, the actions and each env's CSV
    cells while it flies."""
    env = spikefly.VecEnv(envs, seed=EVAL_KEY)
    env.progress = 1.0
    obs, info = env.reset()
    done = np.zeros(envs, bool)
    rows, trace = {}, []
    for k in range(steps or env.time_limit):
        act = policy(obs, info["privileged"], np.full(envs, k == 0))
        trace.append((obs, info["privileged"], act))
        obs, rew, term, trunc, info = env.step(act)
        s = env.states()
        for i in np.flatnonzero(~done):
            rows[(i, k + 1)] = ["%.7g" % v for v in s[i]] + ["%.7g" % v for v in act[i]] + ["%.7g" % rew[i]]
        done |= term | trunc
    return rows, trace


def retraces_eval(ckpt, cli, tmp_path):
    """The vector env stepped with the C actor retraces `spikefly eval`'s
    flights: every state, action and reward as eval's CSV prints them."""
    subprocess.run([str(cli), "eval", str(ckpt), "--episodes", str(EVAL_ENVS), "--seed", str(EVAL_SEED), "--csv",
                    str(tmp_path / "f.csv"), "--csv-envs", str(EVAL_ENVS)], check=True, capture_output=True)
    want = {}
    with open(tmp_path / "f.csv") as f:
        r = csv.DictReader(f)
        cols = ["px", "py", "pz", "qw", "qx", "qy", "qz", "vx", "vy", "vz", "wx", "wy", "wz", "m0", "m1", "m2",
                "m3", "a0", "a1", "a2", "a3", "reward"]
        for row in r:
            want[(int(row["env"]), int(row["step"]))] = [row[c] for c in cols]
    got, _ = fly(spikefly.Policy(ckpt), EVAL_ENVS)
    assert len(want) > EVAL_ENVS * 10
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], key


def test_policy_flies_evals_flight_exactly(trained, cli, tmp_path):
    retraces_eval(trained / "checkpoint.safetensors", cli, tmp_path)


@pytest.fixture(scope="module")
def stack_trained(tmp_path_factory):
    """A small actor trained in frame-stack mode (3 frames, 2 sub-steps)."""
    out = tmp_path_factory.mktemp("stack") / "snn"
    return spikefly.train(out=out, guide="pid", epochs=2, envs=4, collect_steps=100, updates=4, batch=4,
                          eval_every=1, eval_episodes=2, hidden=[32, 16], frame_stack=3, substeps=2, seq_len=3,
                          warmup=2, stride=1)


def test_frame_stack_policy_flies_evals_flight_exactly(stack_trained, cli, tmp_path):
    retraces_eval(stack_trained / "checkpoint.safetensors", cli, tmp_path)


def test_frame_stack_module_matches_the_c_actor(stack_trained):
    """The snnTorch frame-stack module on an episode's observations (its
    `sequence`, which builds the stacks) against the C actor flying them;
    the tolerance is the one of the streaming test below."""
    ckpt = stack_trained / "checkpoint.safetensors"
    module = spikefly.load(ckpt)
    assert (module.frames, module.substeps, module.input) == (3, 2, "obs")
    _, trace = fly(spikefly.Policy(ckpt), 8, steps=200)
    obs = torch.from_numpy(np.stack([o for o, _, _ in trace]))
    act = np.stack([a for _, _, a in trace])
    with torch.no_grad():
        y = module.sequence(obs).numpy()
        module(torch.cat([obs[10], obs[11], obs[12]], dim=-1))
    spikes = [int((m > lif.threshold).sum()) for m, lif in zip(module.last_mem, module.net.lif)]
    assert spikes[0] > 0 and spikes[1] > 0, spikes
    assert np.abs(y - act).max() < 1e-5, np.abs(y - act).max()


def test_snntorch_module_matches_the_c_actor(trained):
    """On the same observations, step by step with carried state, the
    snnTorch module's actions equal the C actor's within float32 rounding.

    Tolerance 1e-5: the two sum each neuron's inputs in different orders,
    so membranes differ by a few float32 ulps (~1e-7 relative); a spike
    could flip only where a membrane lies within that of its threshold,
    which this check would show as a large difference. The data must have
    spikes in both layers, or the comparison would be empty."""
    ckpt = trained / "checkpoint.safetensors"
    policy = spikefly.Policy(ckpt)
    module = spikefly.load(ckpt)
    assert isinstance(module, torch.nn.Module) and module.input == "obs"
    assert type(module.lif[0]).__module__.startswith("snntorch")
    _, trace = fly(policy, 8, steps=300)
    mem, worst, spikes = None, 0.0, [0, 0]
    with torch.no_grad():
        for obs, priv, act in trace:
            y, mem = module(torch.from_numpy(spikefly.actor_input(obs, priv, module.input)), mem)
            worst = max(worst, float(np.abs(y.numpy() - act).max()))
            for layer, (m, lif) in enumerate(zip(mem, module.lif)):
                spikes[layer] += int((m > lif.threshold).sum())
    assert spikes[0] > 0 and spikes[1] > 0, spikes
    assert worst < 1e-5, worst


def test_sequence_equals_steps(trained):
    module = spikefly.load(trained / "checkpoint.safetensors")
    x = torch.randn(20, 3, 18)
    with torch.no_grad():
        seq = module.sequence(x)
        mem, ys = None, []
        for t in range(20):
            y, mem = module(x[t], mem)
            ys.append(y)
    assert torch.equal(seq, torch.stack(ys))


def test_guide_and_critics_load_as_mlps(trained, cli, tmp_path):
    """A guide (train-guide's file) as a torch MLP equals the C guide; the
    run's critics load as MLPs on [privileged observation, action]."""
    guide_dir = tmp_path / "guide"
    subprocess.run([str(cli), "train-guide", "--out", str(guide_dir), "--epochs", "2", "train.envs=8",
                    "train.collect_steps=100", "train.updates=10", "train.batch=16", "train.eval_every=1",
                    "train.eval_episodes=4"], check=True, capture_output=True)
    path = guide_dir / "guide.safetensors"
    guide, c_guide = spikefly.load(path), spikefly.Policy(path)
    assert guide.input == "priv" and guide.tanh_out
    env = spikefly.VecEnv(16, seed=3)
    obs, info = env.reset()
    with torch.no_grad():
        y = guide(torch.from_numpy(info["privileged"])).numpy()
    assert np.abs(y - c_guide(obs, info["privileged"])).max() < 1e-5
    critic = spikefly.load(trained / "checkpoint.safetensors", part="critic1")
    q = critic(torch.zeros(5, 150))
    assert q.shape == (5, 1) and torch.isfinite(q).all()
    assert [fc.in_features for fc in critic.fc] == [150, 256, 128]


def test_bad_checkpoints_raise_clear_errors(trained, tmp_path):
    with pytest.raises(ValueError, match="nope.safetensors"):
        spikefly.load(tmp_path / "nope.safetensors")
    broken = tmp_path / "broken.safetensors"
    data = bytearray((trained / "checkpoint.safetensors").read_bytes())
    data[-5] ^= 0xFF
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="broken.safetensors"):
        spikefly.load(broken)
    with pytest.raises(ValueError, match="agent"):
        spikefly.load(trained / "checkpoint.safetensors", agent=3)
    with pytest.raises(ValueError, match="no network named"):
        spikefly.load(trained / "checkpoint.safetensors", part="critic9")
    policy = spikefly.Policy(trained / "checkpoint.safetensors")
    with pytest.raises(ValueError, match="shape"):
        policy(np.zeros((4, 17), np.float32))
    with pytest.raises(TypeError, match="float"):
        policy(np.zeros((4, 18), np.int32))
    with pytest.raises(ValueError, match="finite"):
        policy(np.full((4, 18), np.nan, np.float32))
