#!/usr/bin/env bash
# A slope sweep over several nodes with Slurm: one MPI rank per GPU, each
# rank training its share of the 64 agents (8 slopes x 8 seeds) as one
# population on its GPU; one run directory on a shared file system.
#
#   sbatch scripts/slurm_sweep.sh
#
# The line to change: the experiment (config, sweep, run directory).
#SBATCH --job-name=spikefly-sweep
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=12:00:00
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"

ARGS="--config configs/paper.ini --guide runs/guide/guide.safetensors --sweep model.slope=1,2,5,10,20,50,80,100 --sweep seed=0,1,2,3,4,5,6,7 --device cuda --out runs/slope-sweep"

export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# Each rank takes the GPU of its local rank (modulo the node's GPUs); a
# killed job continues with the same command and --resume runs/slope-sweep.
srun --mpi=pmix ./build/spikefly train $ARGS "$@"
