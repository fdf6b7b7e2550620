#!/usr/bin/env bash
# Quick start, main job: install, build, then the quick CPU preset: train the
# guide, train a spiking controller with TD3BC+JSRL, and evaluate it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Idle OpenMP threads spin a bounded while, then sleep, unless
# OMP_WAIT_POLICY or GOMP_SPINCOUNT is set: an update is a few hundred short
# parallel regions, and waking a sleeping thread for each costs a system call
# (measured on 2 cores with other work running, 6 epochs of
# configs/quick.ini: 2 threads 1.83x 1 thread this way, 1.35x sleeping at
# once with OMP_WAIT_POLICY=passive).
if [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then export GOMP_SPINCOUNT=30000; fi
./build/spikefly train-guide --config configs/quick_guide.ini --overwrite
./build/spikefly train --config configs/quick.ini --guide runs/quick-guide/guide.safetensors --overwrite "$@"
./build/spikefly eval runs/quick/checkpoint.safetensors --episodes 100
