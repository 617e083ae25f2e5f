"""Record MLX's mx.random outputs for tests/test_random.py.

Run with the reference interpreter (real MLX 0.32.4):
    /work/mlxref/bin/python tests/data/make_random_reference.py
Writes tests/data/random_reference.npz: for each case of random_cases.py, the output's
raw bytes (uint8), dtype name and shape, or the name of the exception MLX raised.
"""
import os
import sys

import numpy as np

import mlx.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from random_cases import cases  # noqa: E402


def record(out):
    mx.eval(out)
    raw = np.array(out.view(mx.uint16) if out.dtype == mx.bfloat16 else out)
    return (np.frombuffer(raw.tobytes(), dtype=np.uint8).copy(),
            str(out.dtype).split(".")[-1], np.array(out.shape, dtype=np.int64))


def main():
    data = {}
    for name, thunk in cases(mx):
        try:
            raw, dt, shape = record(thunk())
        except Exception as e:  # the error type is part of the reference
            data[f"{name}/error"] = np.array(type(e).__name__)
            continue
        data[f"{name}/bytes"] = raw
        data[f"{name}/dtype"] = np.array(dt)
        data[f"{name}/shape"] = shape
    path = os.path.join(HERE, "random_reference.npz")
    np.savez_compressed(path, **data)
    print(f"{len([k for k in data if not k.endswith(('/dtype', '/shape'))])} cases -> {path} "
          f"({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
