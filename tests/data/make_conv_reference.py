"""Record MLX 0.32.4's outputs for conv_general's corner cases (and a few of the other
conv forms) into conv_mlx.npz.  Run with the reference interpreter:
    /work/mlxref/bin/python tests/data/make_conv_reference.py
The cases (function name and keyword arguments) are stored in the file as JSON."""
import json
import os

import numpy as np
import mlx.core as mx

CASES = [
    ("conv_general", (2, 7, 3), (4, 3, 3), dict(stride=2, padding=([2], [0]))),
    ("conv_general", (2, 7, 3), (4, 3, 3), dict(padding=([0], [3]), input_dilation=3)),
    ("conv_general", (1, 6, 5, 4), (4, 2, 3, 2), dict(stride=[2, 1], padding=([1, 0], [0, 2]),
                                                    kernel_dilation=[1, 2], groups=2)),
    ("conv_general", (1, 6, 5, 4), (6, 3, 2, 4), dict(input_dilation=[2, 3], flip=True,
                                                    padding=[2, 1])),
    ("conv_general", (1, 6, 5, 4), (4, 3, 3, 1), dict(groups=4, flip=True,
                                                    padding=([1], [2]), stride=[3])),
    ("conv_general", (2, 4, 3, 5, 2), (3, 2, 2, 3, 2), dict(stride=[1, 2, 1],
                                                          padding=([0, 1, 2], [1, 0, 0]),
                                                          kernel_dilation=[2, 1, 1],
                                                          input_dilation=[1, 1, 2])),
    ("conv_general", (1, 9, 6), (6, 1, 3), dict(groups=2, stride=4)),
    ("conv_general", (1, 5, 5, 2), (2, 5, 5, 2), dict()),
    ("conv_general", (1, 3, 2), (2, 4, 2), dict(padding=([3], [3]), input_dilation=2,
                                             kernel_dilation=2, flip=True)),
    ("conv_transpose2d", (1, 4, 5, 4), (4, 3, 3, 2), dict(stride=2, padding=1,
                                                       output_padding=1, groups=2)),
    ("conv_transpose1d", (2, 6, 3), (5, 4, 3), dict(stride=3, padding=2, dilation=2,
                                                 output_padding=2)),
    ("conv_transpose3d", (1, 3, 2, 3, 2), (2, 2, 2, 2, 2), dict(stride=(2, 1, 2),
                                                             padding=(1, 0, 1))),
    ("conv1d", (2, 10, 4), (6, 3, 2), dict(stride=3, padding=2, dilation=2, groups=2)),
    ("conv3d", (1, 4, 5, 3, 3), (2, 2, 3, 2, 3), dict(stride=(2, 1, 1), padding=(1, 1, 0))),
]


def main():
    rng = np.random.default_rng(2024)
    data = {}
    meta = []
    for i, (fn, xs, ws, kw) in enumerate(CASES):
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        out = getattr(mx, fn)(mx.array(x), mx.array(w), **kw)
        data[f"x{i}"], data[f"w{i}"], data[f"out{i}"] = x, w, np.array(out)
        meta.append([fn, kw])
    data["cases"] = np.array(json.dumps(meta))
    np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_mlx.npz"), **data)


if __name__ == "__main__":
    main()
