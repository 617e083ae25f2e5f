"""Records MLX 0.32.4's results for tests/nn_cases.py into mlx_nn_reference.npz.
Run with the reference build:
    /work/mlxref/bin/python tests/data/gen_nn_reference.py"""
import os
import sys

import numpy as np
import mlx.core as mx
import mlx.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
from nn_cases import CASES  # noqa: E402

record = {}
for name, fn in CASES.items():
    for key, value in fn(mx, nn).items():
        mx.eval(value)
        record[f"{name}/{key}"] = np.array(value.astype(mx.float32) if value.dtype in
                                           (mx.float16, mx.bfloat16) else value)
np.savez_compressed(os.path.join(here, "mlx_nn_reference.npz"), **record)
print(len(record), "arrays")
