#!/usr/bin/env bash
# Quick start, main job: install, build, then the quick CPU preset: train the
# guide, train a spiking controller with TD3BC+JSRL, and evaluate it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
source scripts/blas_env.sh
./build/spikefly train-guide --config configs/quick_guide.ini --overwrite
./build/spikefly train --config configs/quick.ini --guide runs/quick-guide/guide.safetensors --overwrite "$@"
./build/spikefly eval runs/quick/checkpoint.safetensors --episodes 100
