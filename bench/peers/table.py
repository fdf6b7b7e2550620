"""The table of bench/peers/run.sh from its raw figures (peers.tsv): per
workload and thread count the median of spikefly and of each peer, the
ratio spikefly / peer, spikefly's speed-up over 1 thread and the GEMM's
(what the machine gave a second thread in the same run), and spikefly's
arithmetic rate as a fraction of the GEMM rate measured at the
same shapes in the same run (OpenBLAS, same thread count)."""
import statistics
import sys
from collections import defaultdict

UNITS = {"sim": "env steps/s", "loop": "env steps/s", "snn": "seq-steps/s", "update": "transitions/s"}
T_SEQ = 100


def work_seconds(workload, rate):
    """Seconds of one unit of work the dense-product list describes (one
    control step of N envs, one forward+BPTT call, one update)."""
    kind, _, size = workload.partition("_")
    n = int(size)
    return (n if kind == "loop" else n * T_SEQ) / rate


def main(path):
    vals = defaultdict(list)
    order = []
    with open(path) as f:
        next(f)
        for line in f:
            rep, t, w, impl, v = line.rstrip("\n").split("\t")
            try:
                vals[(int(t), w, impl)].append(float(v))
            except ValueError:
                continue  # a failed measurement
            if w not in order:
                order.append(w)
    med = {k: statistics.median(v) for k, v in vals.items()}
    threads = sorted({k[0] for k in med})
    nreps = max(len(v) for v in vals.values())
    print(f"\nmedians of {nreps} interleaved runs; ratio = spikefly / peer (higher: spikefly faster)")
    head = f"{'workload':<13} {'thr':>3} {'spikefly':>10} {'peer':<14} {'peer value':>10} {'ratio':>6} {'GEMM frac':>9} {'x 1 thr':>7} {'GEMM x1':>7}  unit"
    print(head)
    print("-" * len(head))
    for w in order:
        kind = w.partition("_")[0]
        peers = sorted({k[2] for k in med if k[1] == w and k[2] not in ("spikefly", "gemm_s")})
        for t in threads:
            sf = med.get((t, w, "spikefly"))
            if sf is None:
                continue
            g = med.get((t, w, "gemm_s"))
            frac = f"{g / work_seconds(w, sf):.2f}" if g else "-"
            base = med.get((threads[0], w, "spikefly"))
            scale = f"{sf / base:.2f}" if base and t != threads[0] else ""
            g1 = med.get((threads[0], w, "gemm_s"))
            gscale = f"{g1 / g:.2f}" if g and g1 and t != threads[0] else ""
            for i, p in enumerate(peers or ["-"]):
                pv = med.get((t, w, p))
                ratio = f"{sf / pv:.2f}" if pv else "-"
                first = i == 0
                print(f"{w if first else '':<13} {t if first else '':>3} {f'{sf:.3g}' if first else '':>10} {p:<14} "
                      f"{f'{pv:.3g}' if pv else '-':>10} {ratio:>6} {frac if first else '':>9} {scale if first else '':>7}"
                      f" {gscale if first else '':>7}  {UNITS.get(kind, '') if first else ''}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/peers.tsv")
