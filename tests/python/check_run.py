"""A real training run read back with the Python tools a researcher uses:
every scalar of progress.csv through TensorBoard's EventAccumulator, and the
checkpoint through safetensors. Usage: check_run.py SPIKEFLY WORKDIR"""
import csv
import math
import signal
import subprocess
import sys
import time

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from tensorboard.backend.event_processing import event_accumulator

TAGS = ["return_final", "return_current", "episode_len", "survival", "survive_warmup", "hover_err", "slope",
        "bc_weight", "horizon", "critic_loss", "actor_loss", "mean_q", "env_steps", "wall_s"]


def same_value(event, d):
    """The events hold float32(v) of the double v that progress.csv prints
    with 9 significant digits (d, read back as a double): float32(d) can land
    one float32 step from float32(v) (double rounding). Equal, or the event
    within half a float32 step of d plus d's own decimal rounding."""
    if event == np.float32(d):
        return True
    if d == 0.0 or not math.isfinite(d):
        return False
    half_step = 0.5 * float(np.spacing(np.abs(event)))
    decimal = 0.5 * 10.0 ** (math.floor(math.log10(abs(d))) - 8)
    return abs(float(event) - d) <= half_step + decimal


def compare(run, failures):
    """Every scalar of progress.csv appears in TensorBoard exactly once, under
    its agent's setting ("td3 seed=1" -> "td3,seed=1/return_final")."""
    acc = event_accumulator.EventAccumulator(run, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    have = set(acc.Tags()["scalars"])
    rows = list(csv.DictReader(open(f"{run}/progress.csv")))
    for agent in sorted({int(r["agent"]) for r in rows}):
        setting = next(r["setting"] for r in rows if int(r["agent"]) == agent)
        if f"seed={agent + 1}" not in setting:
            failures.append(f"{run}: agent {agent}: setting '{setting}' does not name its seed")
        for tag in TAGS:
            want = [(int(r["epoch"]), float(r[tag])) for r in rows
                    if int(r["agent"]) == agent and not math.isnan(float(r[tag]))]
            name = setting.replace(" ", ",") + "/" + tag
            if not want and name not in have:
                continue  # never finite (no surviving episode): nothing to log
            if name not in have:
                failures.append(f"{run}: no scalar {name}")
                continue
            got = [(e.step, np.float32(e.value)) for e in acc.Scalars(name)]
            if len(got) != len(want) or not all(g[0] == w[0] and same_value(g[1], w[1]) for g, w in zip(got, want)):
                failures.append(f"{run}: {name}: events {got} != csv {want}")


def killed_and_resumed(spikefly, run):
    """A run killed after writing the rows of an epoch it did not checkpoint
    (eval_every 2: epoch 3), then resumed: epoch 3 is trained again."""
    args = [spikefly, "train", "--algo", "td3", "--epochs", "6", "--out", run, "train.envs=2",
            "train.collect_steps=60", "train.updates=3", "train.batch=4", "train.hidden=8,8", "train.eval_every=2",
            "train.eval_episodes=2", "train.buffer=5000", "--sweep", "seed=1,2"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        try:
            if any(r["epoch"] == "3" for r in csv.DictReader(open(f"{run}/progress.csv"))):
                break
        except (FileNotFoundError, KeyError):
            pass
        time.sleep(0.005)
    if p.poll() is not None:
        return False  # finished before it could be killed: nothing to check
    p.send_signal(signal.SIGKILL)
    p.wait()
    subprocess.run([spikefly, "train", "--resume", run], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return True


def main():
    spikefly, work = sys.argv[1], sys.argv[2]
    run = f"{work}/run"
    subprocess.run([spikefly, "train", "--algo", "td3", "--epochs", "3", "--out", run, "train.envs=2",
                    "train.collect_steps=60", "train.updates=3", "train.batch=4", "train.hidden=8,8",
                    "train.eval_every=1", "train.eval_episodes=2", "train.buffer=5000", "--sweep", "seed=1,2"],
                   check=True, stdout=subprocess.DEVNULL)
    failures = []
    compare(run, failures)
    tensors = load_file(f"{run}/checkpoint.safetensors")
    if tensors["actor.fc1.weight"].shape != (2, 8, 18):
        failures.append(f"actor.fc1.weight shape {tensors['actor.fc1.weight'].shape}")
    with safe_open(f"{run}/checkpoint.safetensors", "np") as f:
        if f.metadata().get("spikefly.actor") != "snn:obs:8,8":
            failures.append(f"metadata {f.metadata().get('spikefly.actor')}")
    resumed = f"{work}/resumed"
    if killed_and_resumed(spikefly, resumed):
        compare(resumed, failures)
    else:
        failures.append("the run to kill finished first")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{len(TAGS) * 2} scalar series match progress.csv, also after a resume; checkpoint loads with "
          f"{len(tensors)} tensors")


main()
