"""A small random local search over the reference controller's gains with
perfect state (observation noise off), for results/RESULTS.md (issue 15,
item 5): how much of the reset distribution a better-tuned cascade recovers.

    python3 results/cpu/item5/pid_gain_search.py RANDOM_SEED ITERATIONS OBJECTIVE

OBJECTIVE "surv" keeps a candidate that raises the survival (then the
return), "ret" one that raises the mean return. Each candidate flies 1000
episodes (fly seed 1); the best and the default gains are then flown on
2000 other episodes (fly seed 7), whose figures are the ones to quote.
SPIKEFLY names the binary (default: build/spikefly of this checkout).
"""
import os
import random
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY = os.environ.get("SPIKEFLY", os.path.join(ROOT, "build", "spikefly"))
PERFECT_STATE = ["env.noise_pos=0", "env.noise_rot=0", "env.noise_vel=0", "env.noise_angvel=0"]
# sim/sf_pid.c's defaults: [x and y, z] where a gain has three axes.
DEFAULT = {"kp": [10.0, 10.5], "kd": [4.3, 5.3], "k_att": [8.5, 2.1], "max_rate": [16.0, 4.8],
           "k_rate": [28.5, 5.2], "lag_comp": [0.18], "max_acc_xy": [20.0]}


def overrides(gains):
    out = []
    for key, v in gains.items():
        values = v if len(v) == 1 else [v[0], v[0], v[1]]
        out.append("pid.%s=%s" % (key, ",".join("%g" % x for x in values)))
    return out


def fly(gains, seed=1, episodes=1000):
    """(survival, mean return) of `spikefly fly` with these gains."""
    out = subprocess.run([BINARY, "fly", "--episodes", str(episodes), "--envs", "500", "--seed", str(seed)] +
                         PERFECT_STATE + overrides(gains), capture_output=True, text=True, check=True).stdout
    ret = float(re.search(r"mean return\s+([-\d.]+)", out).group(1))
    surv = float(re.search(r"survival rate\s+([\d.]+)", out).group(1))
    return surv, ret


def search(iterations, objective):
    key = (lambda s: s) if objective == "surv" else (lambda s: (s[1], s[0]))
    best, best_score = dict(DEFAULT), fly(DEFAULT)
    print("default (seed 1):", best_score, flush=True)
    for it in range(iterations):
        # Wide steps first, then finer ones around the best so far.
        scale = 0.5 if it < iterations // 3 else 0.25
        cand = {k: [max(0.0, x * (1 + random.uniform(-scale, scale))) for x in v] for k, v in best.items()}
        cand["lag_comp"] = [min(1.0, cand["lag_comp"][0])]
        score = fly(cand)
        if key(score) > key(best_score):
            best, best_score = cand, score
            print(it, score, " ".join(overrides(cand)), flush=True)
    return best, best_score


def main():
    random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    objective = sys.argv[3] if len(sys.argv) > 3 else "surv"
    if objective not in ("surv", "ret"):
        sys.exit("objective must be surv or ret, not %r" % objective)
    best, score = search(iterations, objective)
    print("best (seed 1):", score, " ".join(overrides(best)))
    print("best (seed 7, 2000 episodes): survival %.3f, return %.2f" % fly(best, seed=7, episodes=2000))
    print("default (seed 7, 2000 episodes): survival %.3f, return %.2f" % fly(DEFAULT, seed=7, episodes=2000))


if __name__ == "__main__":
    main()
