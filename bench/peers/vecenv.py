"""spikefly.VecEnv's step rate from Python, for bench/peers/vecenv.sh.

  python vecenv.py N STEPS REPS

As peers.py's `sim` workload measures pip l2f's vector env: uniform random
actions in [-1, 1] pre-drawn for 64 steps and cycled, N envs, STEPS steps per
repetition, the median of REPS. Each VecEnv.step is the C step, the reward
and termination, the noisy observation, gymnasium's next-step autoreset, and
new numpy arrays for what it returns; `loop` also fills info["privileged"]
(146 values per env), `loop_lean` does not (VecEnv(privileged=False)).
Prints one JSON line of env steps per second.
"""
import json
import sys
import time

import numpy as np

import spikefly


def rate(env, acts, steps, reps):
    env.reset(seed=1)
    times = []
    for _ in range(reps + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        for k in range(steps):
            env.step(acts[k % 64])
        times.append(time.perf_counter() - t0)
    return env.num_envs * steps / float(np.median(times[1:]))


def main():
    n, steps, reps = (int(a) for a in sys.argv[1:4])
    acts = np.random.default_rng(1).uniform(-1, 1, (64, n, 4)).astype(np.float32)
    full = rate(spikefly.VecEnv(n), acts, steps, reps)
    lean = rate(spikefly.VecEnv(n, privileged=False), acts, steps, reps)
    print(json.dumps({"workload": "vecenv", "envs": n, "loop": full, "loop_lean": lean, "unit": "env steps/s"}))


if __name__ == "__main__":
    main()
