"""Checkpoints written by spikefly's C writer, loaded with Python's own
safetensors package, and a file saved by that package read back by the C
reader. Usage: check_safetensors.py SF_INTEROP WORKDIR"""
import subprocess
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

KINDS = ["F32", "F64", "I32", "I64", "U32", "U64", "U8"]
NP = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64,
      "U32": np.uint32, "U64": np.uint64, "U8": np.uint8}


def sample(kind, n):
    """Element i of the sample tensor of each dtype (as in sf_interop.c)."""
    i = np.arange(n, dtype=np.int64)
    if kind == "F32":
        return (0.25 * i - 3.0).astype(np.float32)
    if kind == "F64":
        return 1.0 / 3.0 + 1e-3 * i.astype(np.float64)
    if kind == "I32":
        return (i * 1000 - 5000).astype(np.int32)
    if kind == "I64":
        return i * 4294967296 - 7
    if kind == "U32":
        return (4000000000 - i.astype(np.uint64)).astype(np.uint32)
    if kind == "U64":
        return np.uint64(1 << 53) - i.astype(np.uint64)
    return ((i * 37) % 256).astype(np.uint8)


def shape_of(k):
    return (k + 1, 3) if k % 2 == 0 else (2, k + 1, 2)


def main():
    interop, work = sys.argv[1], sys.argv[2]
    subprocess.run([interop, "write", work], check=True)
    path = f"{work}/sample.safetensors"
    failures = []

    tensors = load_file(path)
    expected = {f"sample.{kind}": sample(kind, int(np.prod(shape_of(k)))).reshape(shape_of(k))
                for k, kind in enumerate(KINDS)}
    expected["scalar"] = np.array(42.5, dtype=np.float32)
    if sorted(tensors) != sorted(expected):
        failures.append(f"tensor names {sorted(tensors)} != {sorted(expected)}")
    for name, want in expected.items():
        got = tensors.get(name)
        if got is None:
            continue
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            failures.append(f"{name}: got {got.dtype} {got.shape} {got.ravel()[:6]}, "
                            f"expected {want.dtype} {want.shape} {want.ravel()[:6]}")

    with safe_open(path, framework="np") as f:
        meta = f.metadata()
        if meta.get("epoch") != "17":
            failures.append(f"metadata epoch = {meta.get('epoch')!r}")
        if meta.get("config") != '[train]\nlr = 0.0003\nname = "quoted" \\ back\n':
            failures.append(f"metadata config = {meta.get('config')!r}")
        crc = meta.get("spikefly.crc32c", "")
        if len(crc) != 8:
            failures.append(f"checksum metadata = {crc!r}")
        if not np.array_equal(f.get_tensor("sample.I64"), expected["sample.I64"]):
            failures.append("safe_open: sample.I64 differs")

    # The other direction: numpy's file, read by the C reader.
    py = {f"py.{kind}": sample(kind, 20).reshape(4, 5) for kind in KINDS}
    save_file(py, f"{work}/from_numpy.safetensors", metadata={"source": "numpy"})
    r = subprocess.run([interop, "read", f"{work}/from_numpy.safetensors"], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"C reader refused numpy's file: {r.stderr.strip()}")
    else:
        print(r.stdout.strip())

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: {len(tensors)} tensors and {len(meta)} metadata entries match in safetensors "
          f"{__import__('safetensors').__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
