#!/usr/bin/env bash
# spikefly against the Python stack it replaces, side by side on this
# machine: one table of medians and spikefly / peer ratios per thread count.
#
#   bash bench/peers/run.sh [--threads 1,2] [--reps 5] [--quick]
#
# Makes its own Python environment from PyPI (bench/peers/.venv, or
# $SF_PEERS_VENV), builds spikefly (build/, or $SF_BUILD) where needed, then
# runs every workload of spikefly and of its peers interleaved, rep after
# rep, each in its own process. --quick: fewer steps and one shape per
# workload, to check the harness. Raw figures go to
# $SF_PEERS_OUT (default build/peers.tsv). README.md says what each
# workload includes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
threads=1,2
reps=5
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

venv=${SF_PEERS_VENV:-$here/.venv}
build=${SF_BUILD:-$root/build}
out=${SF_PEERS_OUT:-$build/peers.tsv}

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, snntorch, spikingjelly, l2f" 2>/dev/null; then
  echo "== making $venv from PyPI (torch, snntorch, spikingjelly, l2f: several minutes the first time)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
if [ ! -x "$build/spikefly" ] || [ ! -x "$build/bench_snn" ] || [ ! -x "$build/bench_gemm" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target spikefly bench_snn bench_gemm >/dev/null

py=$venv/bin/python
sf=$build/spikefly
if [ "$quick" = 1 ]; then
  sim_steps=100 loop_steps=30 updates=2 loop_envs="1024" snn_batches="32" update_batches="50"
else
  sim_steps=300 loop_steps=100 updates=4 loop_envs="256 1024 4096" snn_batches="32 256" update_batches="50 350"
fi
export PEERS_REPS=1 PEERS_SIM_STEPS=$sim_steps PEERS_LOOP_STEPS=$loop_steps
# Idle OpenMP threads (spikefly's, PyTorch's, l2f's: all GNU libgomp) spin
# for a bounded while, then sleep, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT
# is set. Measured at 2 threads, closed loop at 1024 envs: on a quiet machine
# bounded spinning gives 1.9x 1 thread, sleeping at once (passive) 1.0-1.5x;
# on a machine with other work any spinning collapses (1e4-2e5 env steps/s
# against 8e5 passive): there, run with OMP_WAIT_POLICY=passive.
if [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then export GOMP_SPINCOUNT=30000; fi
source "$(dirname "$0")/../../scripts/blas_env.sh"
echo "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-chosen by OpenBLAS}"

mkdir -p "$(dirname "$out")"
printf 'rep\tthreads\tworkload\timpl\tvalue\n' > "$out"
emit() { printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$t" "$1" "$2" "$3" >> "$out"; }
# The value of key $1 in the JSON line on stdin.
jget() { "$py" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
# bench_gemm's seconds for one pass over a workload's dense products.
gemm_s() { "$build/bench_gemm" "$@" | sed -n 's/.* threads, \([0-9.e+-]*\) s for .*/\1/p'; }

echo "== $(uptime)"
for rep in $(seq 1 "$reps"); do
  for t in ${threads//,/ }; do
    export OMP_NUM_THREADS=$t
    echo "-- rep $rep/$reps, $t thread(s)"
    # simulator: step alone, and step + observation + auto-reset
    r=$("$sf" bench sim --envs 4096 --steps "$sim_steps")
    emit sim_step spikefly "$(echo "$r" | awk '/^  step/ {print $2}')"
    emit sim_loop spikefly "$(echo "$r" | awk '/^  loop/ {print $2}')"
    r=$("$py" "$here/peers.py" sim)
    emit sim_step l2f "$(echo "$r" | jget step)"
    emit sim_loop l2f "$(echo "$r" | jget loop)"
    # closed loop: observation, SNN streaming step, env step, auto-reset
    for n in $loop_envs; do
      r=$("$sf" bench loop --envs "$n" --steps "$loop_steps")
      emit "loop_$n" spikefly "$(echo "$r" | awk '/^  loop/ {print $2}')"
      emit "loop_$n" gemm_s "$(gemm_s loop "$n")"
      emit "loop_$n" l2f+snntorch "$("$py" "$here/peers.py" loop "$n" | jget rate)"
    done
    # SNN forward + BPTT, T = 100
    for b in $snn_batches; do
      r=$("$build/bench_snn" 3 "$b" 1)
      emit "snn_$b" spikefly "$(echo "$r" | sed -n 's/^P=1: .*, \([0-9.e+]*\) sequence-steps\/s.*/\1/p')"
      emit "snn_$b" gemm_s "$(gemm_s snn 100 "$b")"
      emit "snn_$b" snntorch "$("$py" "$here/peers.py" snn "$b" snntorch | jget rate)"
      emit "snn_$b" spikingjelly "$("$py" "$here/peers.py" snn "$b" spikingjelly | jget rate)"
    done
    # one TD3BC+JSRL update (critic every time, actor every second time)
    for b in $update_batches; do
      r=$("$sf" bench train --agents 1 --updates "$updates" --config "$root/configs/paper.ini" train.batch="$b")
      ms=$(echo "$r" | awk '$1 == "1" {print $3}')
      emit "update_$b" spikefly "$(awk -v b="$b" -v ms="$ms" 'BEGIN {print b * 100 / (ms / 1000)}')"
      emit "update_$b" gemm_s "$(gemm_s update "$b" 100)"
      emit "update_$b" pytorch "$("$py" "$here/peers.py" update "$b" 100 | jget rate)"
    done
  done
done
echo "== $(uptime)"
python3 "$here/table.py" "$out"
