"""VecEnv and Env against the C simulator (bit for bit), gymnasium's
checker, and the vector API."""
import subprocess

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import spikefly

N, SEED, STEPS, LIMIT, PROGRESS = 12, 77, 150, 60, 0.3
HOVER = 2 * 0.65996 - 1  # the action that holds the hover throttle


def bits(a):
    """Float arrays as their bit patterns: equality is bit equality (-0 != +0)."""
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def ref_actions():
    """Around hover, noisy enough that some episodes crash early and others
    reach the time limit; some beyond [-1, 1] (the simulator clamps)."""
    rng = np.random.default_rng(5)
    scale = np.linspace(0.05, 0.9, N, dtype=np.float32)[None, :, None]
    return (HOVER + scale * rng.standard_normal((STEPS, N, 4))).astype(np.float32)


@pytest.fixture(scope="module")
def ref(env_ref, tmp_path_factory):
    """The trainer's loop in C over ref_actions(): per step the reward,
    terminated, truncated, the post-step observation, then the observations
    after the finished envs were reset."""
    d = tmp_path_factory.mktemp("ref")
    acts = ref_actions()
    acts.tofile(d / "actions.bin")
    subprocess.run([str(env_ref), str(N), str(SEED), str(STEPS), str(PROGRESS), str(d / "actions.bin"),
                    str(d / "out.bin"), f"env.time_limit={LIMIT}"], check=True)
    raw = (d / "out.bin").read_bytes()
    head = np.dtype([("obs", "<f4", (N, 18)), ("priv", "<f4", (N, 146))])
    step = np.dtype([("rew", "<f4", N), ("term", "u1", N), ("trunc", "u1", N), ("post", "<f4", (N, 18)),
                     ("obs", "<f4", (N, 18)), ("priv", "<f4", (N, 146))])
    assert len(raw) == head.itemsize + STEPS * step.itemsize
    first = np.frombuffer(raw, head, 1)[0]
    steps = np.frombuffer(raw, step, STEPS, head.itemsize)
    done = steps["term"] | steps["trunc"]
    # The data must exercise what the tests are about.
    assert steps["term"].any() and steps["trunc"].any(), "need both crashes and time limits"
    assert (done.sum(axis=0) >= 2).any(), "need an env that finishes twice"
    return acts, first, steps


def test_same_step_autoreset_is_the_trainers_loop_bit_for_bit(ref):
    acts, first, steps = ref
    env = spikefly.VecEnv(N, seed=SEED, autoreset_mode=AutoresetMode.SAME_STEP, time_limit=LIMIT)
    env.progress = PROGRESS
    obs, info = env.reset()
    assert np.array_equal(bits(obs), bits(first["obs"]))
    assert np.array_equal(bits(info["privileged"]), bits(first["priv"]))
    for k in range(STEPS):
        obs, rew, term, trunc, info = env.step(acts[k])
        s = steps[k]
        assert np.array_equal(bits(rew), bits(s["rew"])), k
        assert np.array_equal(term, s["term"].astype(bool)) and np.array_equal(trunc, s["trunc"].astype(bool)), k
        assert np.array_equal(bits(obs), bits(s["obs"])), k
        assert np.array_equal(bits(info["privileged"]), bits(s["priv"])), k
        done = term | trunc
        if done.any():
            assert np.array_equal(info["_final_obs"], done)
            for i in np.flatnonzero(done):
                assert np.array_equal(bits(info["final_obs"][i]), bits(s["post"][i])), (k, i)
        else:
            assert "final_obs" not in info


def test_next_step_autoreset_follows_each_env_through_its_own_actions(ref):
    """Gymnasium's next-step autoreset: the call after an episode ended
    returns the reset observation with reward 0 and ignores that env's
    action. Each env is independent (its own streams), so env i fed its own
    actions in order must retrace the C loop's env i exactly, one call late
    after each reset."""
    acts, first, steps = ref
    env = spikefly.VecEnv(N, seed=SEED, time_limit=LIMIT)
    env.progress = PROGRESS
    obs, _ = env.reset()
    assert np.array_equal(bits(obs), bits(first["obs"]))
    used = np.zeros(N, int)  # actions of acts[:, i] consumed by env i
    pending = np.zeros(N, bool)  # envs that reset on this call
    tracked = np.zeros(N, bool)  # ... after an episode of the C loop's actions
    resets_seen = 0
    while used.min() < STEPS:
        a = np.full((N, 4), 7.0, np.float32)  # ignored where pending: a value that would show
        live = ~pending & (used < STEPS)
        a[live] = acts[used[live], np.flatnonzero(live)]
        obs, rew, term, trunc, info = env.step(a)
        for i in range(N):
            if pending[i] and tracked[i]:  # the reset step: the C loop's observation after its reset
                k = used[i] - 1
                assert rew[i] == 0 and not term[i] and not trunc[i]
                assert np.array_equal(bits(obs[i]), bits(steps[k]["obs"][i])), (k, i)
                resets_seen += 1
            elif not pending[i] and used[i] < STEPS:
                k = used[i]
                s = steps[k]
                assert bits(rew[i]) == bits(s["rew"][i]) and term[i] == s["term"][i] and trunc[i] == s["trunc"][i]
                want = s["post"][i] if term[i] or trunc[i] else s["obs"][i]
                assert np.array_equal(bits(obs[i]), bits(want)), (k, i)
                used[i] += 1
        tracked = (term | trunc) & live
        pending = (term | trunc) & ~pending
    assert resets_seen >= 2


def test_seeds_reproduce_and_differ():
    env = spikefly.VecEnv(4, seed=1)
    a, _ = env.reset(seed=9)
    env.step(np.zeros((4, 4), np.float32))
    b, _ = env.reset(seed=9)
    c, _ = env.reset(seed=10)
    assert np.array_equal(bits(a), bits(b))
    assert not np.array_equal(a, c)
    # The constructor's seed is the one the first reset uses.
    d, _ = spikefly.VecEnv(4, seed=9).reset()
    assert np.array_equal(bits(a), bits(d))


def test_vector_api_and_spaces():
    env = spikefly.VecEnv(5, seed=3, trajectory="figure8")
    assert isinstance(env, gym.vector.VectorEnv)
    assert env.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert env.observation_space.shape == (5, 18) and env.action_space.shape == (5, 4)
    obs, info = env.reset()
    assert obs.dtype == np.float32 and obs in env.observation_space
    assert info["privileged"].shape == (5, 146) and info["_privileged"].all()
    out = env.step(env.action_space.sample())
    assert out[0] in env.observation_space and out[1].dtype == np.float32 and out[2].dtype == np.bool_
    assert env.time_limit > 0 and env.dt == pytest.approx(0.01)
    states = env.states()
    assert states.shape == (5, 17) and np.allclose(np.linalg.norm(states[:, 3:7], axis=1), 1, atol=1e-5)
    env.progress = 1.0
    assert env.progress == 1.0
    # Without the privileged observation: the same observations, no info.
    lean = spikefly.VecEnv(5, seed=3, trajectory="figure8", privileged=False)
    lean_obs, lean_info = lean.reset()
    assert lean_info == {} and np.array_equal(bits(lean_obs), bits(obs))


def test_partial_reset_option_resets_only_the_masked_envs():
    env = spikefly.VecEnv(4, seed=2)
    env.reset()
    for _ in range(3):
        env.step(np.full((4, 4), HOVER, np.float32))
    before = env.states()
    obs, _ = env.reset(options={"reset_mask": np.array([False, True, False, False])})
    after = env.states()
    assert np.array_equal(before[[0, 2, 3]], after[[0, 2, 3]])
    assert not np.array_equal(before[1], after[1])


def test_single_env_passes_gymnasiums_checker():
    check_env(spikefly.Env(seed=4), skip_render_check=True)


def test_curriculum_progress_changes_the_reward():
    rewards = []
    for progress in (0.0, 1.0):
        env = spikefly.VecEnv(3, seed=8)
        env.progress = progress
        env.reset()
        rewards.append(env.step(np.full((3, 4), 0.5, np.float32))[1])
    assert not np.array_equal(rewards[0], rewards[1])


def test_bad_arguments_raise_clear_exceptions():
    env = spikefly.VecEnv(3, seed=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((3, 4), np.float32))
    env.reset()
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        env.step(np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(12, np.float32))
    with pytest.raises(TypeError, match="float"):
        env.step(np.zeros((3, 4), np.int64))
    with pytest.raises(TypeError, match="float"):
        env.step([["a"] * 4] * 3)
    nan = np.zeros((3, 4), np.float32)
    nan[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"finite.*\(1, 2\)"):
        env.step(nan)
    env.step(np.zeros((3, 4)))  # float64 is converted; the env still works after the refusals
    with pytest.raises(ValueError, match="env.no_such_key"):
        spikefly.VecEnv(2, no_such_key=1)
    with pytest.raises(ValueError, match="env.time_limit"):
        spikefly.VecEnv(2, time_limit=-5)
    with pytest.raises(ValueError, match="sim.model"):
        spikefly.VecEnv(2, model="no-such-drone")
    with pytest.raises(ValueError, match="num_envs"):
        spikefly.VecEnv(0)
    with pytest.raises(ValueError, match="seed"):
        spikefly.VecEnv(2, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        spikefly.VecEnv(2, seed=1.5)
    with pytest.raises(ValueError, match="one int"):
        env.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.ones(2, bool)})
    with pytest.raises(ValueError, match="progress"):
        env.progress = 1.5
    with pytest.raises(ValueError, match="autoreset_mode"):
        spikefly.VecEnv(2, autoreset_mode=AutoresetMode.DISABLED)
    one = spikefly.Env()
    one.reset()
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        one.step(np.zeros((1, 4), np.float32))
