#!/usr/bin/env bash
# The Python binding's cost: spikefly.VecEnv.step against the C simulator
# loop it wraps (`spikefly bench sim`) and against pip l2f's vector env
# (peers.py sim), 4096 envs, interleaved rep after rep, each in its own
# process; prints medians and ratios per thread count.
#
#   bash bench/peers/vecenv.sh [--threads 1,2] [--reps 5]
#
# The package from the project's environment (.venv, scripts/setup.sh), the
# peers' environment as bench/peers/run.sh makes it ($SF_PEERS_VENV).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
threads=1,2
reps=5
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "vecenv.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
py=${SF_PYENV:-$root/.venv}/bin/python
peers=${SF_PEERS_VENV:-$here/.venv}/bin/python
sf=${SF_BUILD:-$root/build}/spikefly
"$py" -c "import spikefly" || { echo "vecenv.sh: no spikefly package in $py (bash scripts/setup.sh)" >&2; exit 1; }
"$peers" -c "import l2f" || { echo "vecenv.sh: no l2f in $peers (bash bench/peers/run.sh makes it)" >&2; exit 1; }
if [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then export GOMP_SPINCOUNT=30000; fi
export PEERS_REPS=1 PEERS_SIM_STEPS=300
out=$(mktemp)
trap 'rm -f "$out"' EXIT
jget() { "$py" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
echo "== $(uptime)"
for rep in $(seq 1 "$reps"); do
  for t in ${threads//,/ }; do
    export OMP_NUM_THREADS=$t
    r=$("$sf" bench sim --envs 4096 --steps 300)
    echo "$t c_loop $(echo "$r" | awk '/^  loop/ {print $2}')" >> "$out"
    r=$("$py" "$here/vecenv.py" 4096 300 1)
    echo "$t vecenv $(echo "$r" | jget loop)" >> "$out"
    echo "$t vecenv_lean $(echo "$r" | jget loop_lean)" >> "$out"
    echo "$t l2f $("$peers" "$here/peers.py" sim | jget loop)" >> "$out"
  done
done
echo "== $(uptime)"
"$py" - "$out" "$reps" <<'PY'
import collections, statistics, sys
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    t, k, x = line.split()
    v[(t, k)].append(float(x))
print(f"env steps/s, 4096 envs, median of {sys.argv[2]} (min-max)")
for t in sorted({t for t, _ in v}):
    m = {k: statistics.median(v[(t, k)]) for (tt, k) in v if tt == t}
    print(f"{t} thread(s):")
    for k, label in (("c_loop", "C loop (spikefly bench sim)"), ("vecenv", "VecEnv.step, with info['privileged']"),
                     ("vecenv_lean", "VecEnv.step, privileged=False"), ("l2f", "pip l2f vector env (loop)")):
        print(f"  {label:40s} {m[k]:10.3g}  ({min(v[(t, k)]):.3g}-{max(v[(t, k)]):.3g})")
    print(f"  VecEnv / C loop: {m['vecenv'] / m['c_loop']:.2f} (lean {m['vecenv_lean'] / m['c_loop']:.2f});"
          f"  VecEnv / l2f: {m['vecenv'] / m['l2f']:.2f} (lean {m['vecenv_lean'] / m['l2f']:.2f})")
PY
