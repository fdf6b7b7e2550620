#!/usr/bin/env bash
# The GPU acceptance check: what the first session on a machine with an
# NVIDIA GPU runs, in one command, in under 12 minutes:
#
#   bash scripts/gpu_check.sh            # everything into runs/gpu_check/
#   OUT=/some/dir bash scripts/gpu_check.sh
#
# 1. builds (build-gpu/) for the GPU's architecture (nvidia-smi's compute
#    capability; 90 where it does not say);
# 2. runs every CUDA test (ctest, test_cuda_*);
# 3. runs compute-sanitizer memcheck and racecheck on each CUDA test program;
# 4. measures: spikefly bench sim|loop --device cuda --grid, bench_snn_cuda,
#    spikefly bench train --device cuda --agents 1,8,64;
# 5. trains the quick preset on the GPU (guide, then the SNN) and reports the
#    seconds until the evaluation return first reached 200 and 300, with its
#    learning curves and a flight drawn by spikefly plot.
#
# Every log and figure goes into one folder ($OUT when set), summary.txt
# first. Each step has a time limit and the whole a deadline; a step that
# fails or runs out of time is reported and the rest still run. Exit status:
# 0 when every step passed, 1 when one did not or no GPU is present (the
# reason is printed at once).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
out=${OUT:-$root/runs/gpu_check}
budget_s=${SF_GPU_CHECK_BUDGET_S:-690}
start=$(date +%s)
jobs=$(nproc 2>/dev/null || echo 4)

die() {
  echo "gpu_check: $*" >&2
  exit 1
}

# ---- is there a GPU at all? -------------------------------------------------
command -v nvidia-smi >/dev/null 2>&1 || die "no GPU: nvidia-smi is not installed (no NVIDIA driver)"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1 | head -n 1) ||
  die "no GPU: nvidia-smi failed: $gpu"
[ -n "$gpu" ] || die "no GPU: nvidia-smi lists no device"
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] || die "GPU '$gpu' present but no CUDA toolkit: nvcc not found (PATH or /usr/local/cuda/bin)"

cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
case "$cap" in
  [0-9][0-9] | [0-9][0-9][0-9]) arch=$cap ;;
  *) arch=90 ;;
esac

mkdir -p "$out" || die "cannot create the output folder $out"
summary=$out/summary.txt
: >"$summary"
failed=0

note() { echo "$*" | tee -a "$summary"; }

left() { echo $((budget_s - ($(date +%s) - start))); }

# step NAME LIMIT_S COMMAND...: runs COMMAND with its output in NAME.log,
# within LIMIT_S seconds and what is left of the deadline.
step() {
  local name=$1 limit=$2
  shift 2
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt 10 ]; then
    note "$(printf '%-28s skipped (time budget of %s s spent)' "$name" "$budget_s")"
    failed=1
    return 1
  fi
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  local took=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then
    note "$(printf '%-28s ok       %4d s' "$name" "$took")"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    note "$(printf '%-28s TIMEOUT  %4d s (limit %d s; see %s.log)' "$name" "$took" "$limit" "$name")"
    failed=1
  else
    note "$(printf '%-28s FAILED   %4d s (exit %d; see %s.log)' "$name" "$took" "$rc" "$name")"
    failed=1
  fi
  return $rc
}

note "gpu_check: $gpu, compute capability ${cap:-unknown} -> CMAKE_CUDA_ARCHITECTURES=$arch; $(date -u +%FT%TZ)"
note "nvcc: $("$nvcc" --version | tail -n 1)"
note "output: $out"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1

# ---- 1. build ------------------------------------------------------------------
build=$root/build-gpu
step build 300 bash -c "cmake -S '$root' -B '$build' -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=$arch \
  -DCMAKE_CUDA_COMPILER='$nvcc' && cmake --build '$build' -j $jobs" || {
  note "gpu_check: the build failed; nothing else can run"
  exit 1
}
sf=$build/spikefly
grep -q "CUDA backend ON" "$out/build.log" || note "warning: the build log does not say 'CUDA backend ON'"

# ---- 2. the CUDA tests -------------------------------------------------------
step cuda_tests 150 bash -c "cd '$build' && ctest -R '^Cuda' --output-on-failure -j 4"
grep -E "tests passed|Skipped|Not Run" "$out/cuda_tests.log" | tee -a "$summary" >/dev/null
if grep -q "Skipped" "$out/cuda_tests.log"; then
  note "warning: CUDA tests skipped on a machine with a GPU (see cuda_tests.log for the reason)"
fi

# ---- 3. compute-sanitizer ------------------------------------------------------
sanitizer=$(command -v compute-sanitizer || true)
[ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [ -z "$sanitizer" ]; then
  note "compute-sanitizer not found: memcheck and racecheck not run"
  failed=1
else
  for prog in "$build"/test_cuda_*; do
    [ -x "$prog" ] || continue
    for tool in memcheck racecheck; do
      # The test programs' sizes are small already; the sanitizer makes them
      # 10-100x slower, hence a limit per program.
      step "sanitize_${tool}_$(basename "$prog")" 45 \
        "$sanitizer" --tool "$tool" --error-exitcode 3 --print-limit 20 "$prog"
    done
  done
fi

# ---- 4. benchmarks -------------------------------------------------------------
step bench_sim_grid 60 "$sf" bench sim --device cuda --grid
step bench_loop_grid 60 "$sf" bench loop --device cuda --grid
step bench_snn_cuda 60 "$build/bench_snn_cuda"
step bench_train 90 "$sf" bench train --device cuda --agents 1,8,64 --config "$root/configs/paper.ini"
for b in bench_sim_grid bench_loop_grid bench_snn_cuda bench_train; do
  [ -s "$out/$b.log" ] && { echo "--- $b" && tail -n 12 "$out/$b.log"; } >>"$summary"
done

# ---- 5. the quick preset on the GPU -------------------------------------------
runs=$out/runs
rm -rf "$runs"
mkdir -p "$runs"
step train_guide 120 "$sf" train-guide --config "$root/configs/quick_guide.ini" --device cuda --out "$runs/guide"
# The SNN run stops at its time limit; progress.csv then holds what it did.
step train_quick 240 "$sf" train --config "$root/configs/quick.ini" --device cuda \
  --guide "$runs/guide/guide.safetensors" --out "$runs/quick" train.target_return=300

# Seconds (the run's own wall clock, guide excluded) until the evaluation
# return under the final reward coefficients first reached each level.
first_reach() {
  awk -F, -v level="$1" '
    NR == 1 { for (i = 1; i <= NF; ++i) { if ($i == "wall_s") w = i; if ($i == "return_final") r = i }; next }
    w && r && $r != "" && $r != "nan" && $r + 0 >= level { print $w; found = 1; exit }
    END { if (!found) print "not reached" }' "$2"
}
progress=$runs/quick/progress.csv
if [ -s "$progress" ]; then
  best=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "return_final") r = i; next }
    $r != "" && $r != "nan" && (m == "" || $r + 0 > m) { m = $r + 0 } END { print (m == "" ? "none" : m) }' "$progress")
  note "quick preset on the GPU: seconds to return 200: $(first_reach 200 "$progress"); to 300: $(first_reach 300 "$progress"); best return $best"
  [ -s "$runs/guide/progress.csv" ] &&
    note "  (the guide took $(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "wall_s") w = i; next } { s = $w } END { print s }' "$runs/guide/progress.csv") s before that)"
  step plot_quick 60 "$sf" plot "$runs/quick" --out "$out/figures"
  if [ -s "$runs/quick/checkpoint.safetensors" ]; then
    step eval_quick_gpu 60 "$sf" eval "$runs/quick/checkpoint.safetensors" --device cuda --episodes 100
    step eval_flight 60 "$sf" eval "$runs/quick/checkpoint.safetensors" --trajectory figure8 --csv "$out/flight.csv"
    step plot_flight 60 "$sf" plot --flight "$out/flight.csv" --out "$out/figures"
  fi
else
  note "quick preset on the GPU: no progress.csv (see train_quick.log)"
  failed=1
fi

note "total $(($(date +%s) - start)) s; $([ $failed -eq 0 ] && echo "every step passed" || echo "SOME STEPS DID NOT PASS")"
exit $failed
