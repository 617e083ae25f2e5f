"""Record MLX's optimizers, schedules, clip_grad_norm and losses for
tests/test_optimizers.py and tests/test_losses.py.

Run with the reference interpreter (real MLX 0.32.4):
    /work/mlxref/bin/python tests/data/gen_optim_reference.py
Writes tests/data/optim_reference.npz: for each case of optim_cases.py one
float64 array, the case's returned arrays flattened and concatenated (their
values are float32 or small integers, exact in float64); "__meta__" is a JSON
string mapping each case to its [key, dtype, shape] list, or to
{"error": type name} when MLX raised.
"""
import json
import os
import sys
from types import SimpleNamespace

import numpy as np

import mlx.core as mx
import mlx.nn.losses as losses
import mlx.optimizers as optim
from mlx.utils import tree_flatten

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from optim_cases import cases  # noqa: E402


def to_numpy(a):
    a = mx.array(a)
    dtype = str(a.dtype).split(".")[-1]
    if a.dtype in (mx.bfloat16, mx.float16):
        a = a.astype(mx.float32)
    return np.array(a), dtype


def main():
    lib = SimpleNamespace(mx=mx, optim=optim, losses=losses, tree_flatten=tree_flatten)
    data, meta = {}, {}
    for name, thunk in cases(lib):
        try:
            out = thunk()
        except Exception as e:  # the error type is part of the reference
            meta[name] = {"error": type(e).__name__}
            continue
        if not isinstance(out, dict):
            meta[name] = {"error": None}
            continue
        entries, flat = [], []
        for key, value in out.items():
            arr, dtype = to_numpy(value)
            entries.append([key, dtype, list(arr.shape)])
            flat.append(arr.astype(np.float64).ravel())
        meta[name] = entries
        data[name] = np.concatenate(flat) if flat else np.zeros(0)
    data["__meta__"] = np.array(json.dumps(meta))
    n = len(meta)
    path = os.path.join(HERE, "optim_reference.npz")
    np.savez_compressed(path, **data)
    print(f"{n} cases -> {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
