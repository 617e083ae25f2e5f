"""Record MLX 0.32.4's mx.fast results for tests/test_fast.py.

Run with the reference interpreter:  /work/mlxref/bin/python tests/data/gen_fast.py
Writes tests/data/fast_mlx.npz (keys "<case>/<output>")."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mlx.core as mx  # noqa: E402

from fast_cases import all_cases  # noqa: E402

out = {}
for name, fn in all_cases().items():
    for key, val in fn(mx).items():
        out[f"{name}/{key}"] = val
np.savez_compressed(os.path.join(HERE, "fast_mlx.npz"), **out)
print(f"{len(out)} arrays")
