"""Records MLX 0.32.4's hadamard_transform for the non-power-of-two sizes m * 2^k
(m = 12, 20, 28) into hadamard_mlx.npz: the transform of the identity for each m (the
m x m matrix MLX uses, as the rows the transform gives) and transforms of seeded
normal inputs for a few sizes and scales.  Run with the reference MLX:
    /path/to/mlx-venv/bin/python tests/data/gen_hadamard.py"""
import os

import mlx.core as mx
import numpy as np

out = {}
for m in (12, 20, 28):
    out[f"T{m}"] = np.array(mx.hadamard_transform(mx.eye(m), scale=1.0)).astype(np.int8)
rng = np.random.default_rng(0)
for n in (12, 24, 40, 56, 96, 160, 224, 12 * 64, 28 * 32):
    x = rng.standard_normal((3, n)).astype(np.float32)
    out[f"x{n}"] = x
    out[f"y{n}"] = np.array(mx.hadamard_transform(mx.array(x)))
    out[f"y{n}_s2"] = np.array(mx.hadamard_transform(mx.array(x), scale=2.0))
    out[f"y{n}_f16"] = np.array(mx.hadamard_transform(mx.array(x).astype(mx.float16))
                                .astype(mx.float32))
np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "hadamard_mlx.npz"),
                    **out)
