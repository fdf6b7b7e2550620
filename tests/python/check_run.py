"""A real training run read back with the Python tools a researcher uses:
every scalar of progress.csv through TensorBoard's EventAccumulator, and the
checkpoint through safetensors. Usage: check_run.py SPIKEFLY WORKDIR"""
import csv
import math
import subprocess
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from tensorboard.backend.event_processing import event_accumulator

TAGS = ["return_final", "return_current", "episode_len", "survival", "survive_warmup", "hover_err", "slope",
        "bc_weight", "horizon", "critic_loss", "actor_loss", "mean_q", "env_steps", "wall_s"]


def main():
    spikefly, work = sys.argv[1], sys.argv[2]
    run = f"{work}/run"
    subprocess.run([spikefly, "train", "--algo", "td3", "--epochs", "3", "--out", run, "train.envs=2",
                    "train.collect_steps=60", "train.updates=3", "train.batch=4", "train.hidden=8,8",
                    "train.eval_every=1", "train.eval_episodes=2", "train.buffer=5000", "--sweep", "seed=1,2"],
                   check=True, stdout=subprocess.DEVNULL)
    acc = event_accumulator.EventAccumulator(run, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    have = set(acc.Tags()["scalars"])
    failures = []
    rows = list(csv.DictReader(open(f"{run}/progress.csv")))
    for agent in (0, 1):
        # Each agent's scalars are tagged with its setting ("td3 seed=1" -> "td3,seed=1/...").
        setting = next(r["setting"] for r in rows if int(r["agent"]) == agent)
        if f"seed={agent + 1}" not in setting:
            failures.append(f"agent {agent}: setting '{setting}' does not name its seed")
        for tag in TAGS:
            want = [(int(r["epoch"]), np.float32(float(r[tag]))) for r in rows
                    if int(r["agent"]) == agent and not math.isnan(float(r[tag]))]
            name = setting.replace(" ", ",") + "/" + tag
            if not want and name not in have:
                continue  # never finite (no surviving episode): nothing to log
            if name not in have:
                failures.append(f"no scalar {name}")
                continue
            got = [(e.step, np.float32(e.value)) for e in acc.Scalars(name)]
            if got != want:
                failures.append(f"{name}: events {got} != csv {want}")
    tensors = load_file(f"{run}/checkpoint.safetensors")
    if tensors["actor.fc1.weight"].shape != (2, 8, 18):
        failures.append(f"actor.fc1.weight shape {tensors['actor.fc1.weight'].shape}")
    with safe_open(f"{run}/checkpoint.safetensors", "np") as f:
        if f.metadata().get("spikefly.actor") != "snn:obs:8,8":
            failures.append(f"metadata {f.metadata().get('spikefly.actor')}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{len(TAGS) * 2} scalar series match progress.csv; checkpoint loads with {len(tensors)} tensors")


main()
