"""An event file written by spikefly's C writer, read with TensorBoard's own
EventAccumulator. Usage: check_tfevents.py SF_INTEROP WORKDIR"""
import subprocess
import sys

import numpy as np
from tensorboard.backend.event_processing import event_accumulator


def main():
    interop, work = sys.argv[1], sys.argv[2]
    subprocess.run([interop, "write", work], check=True)
    acc = event_accumulator.EventAccumulator(f"{work}/tb", size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    failures = []
    tags = sorted(acc.Tags()["scalars"])
    if tags != ["train/return", "train/slope"]:
        failures.append(f"scalar tags {tags}")
    # As in sf_interop.c: steps 1000 * k, k = 0..19, wall time 1.7e9 + k / 4.
    k = np.arange(20)
    want = {"train/return": np.float32(1.5) * k.astype(np.float32) - np.float32(2.0),
            "train/slope": np.float32(10.0) / (k + 1).astype(np.float32)}
    for tag in tags:
        ev = acc.Scalars(tag)
        steps = [e.step for e in ev]
        values = np.array([e.value for e in ev], dtype=np.float32)
        walls = [e.wall_time for e in ev]
        if steps != list(1000 * k):
            failures.append(f"{tag}: steps {steps}")
        elif not np.array_equal(values, want[tag]):
            failures.append(f"{tag}: values {values} != {want[tag]}")
        elif walls != [1.7e9 + j / 4.0 for j in k]:
            failures.append(f"{tag}: wall times {walls}")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: {len(tags)} tags x 20 scalars read by TensorBoard {__import__('tensorboard').__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
