"""Records MLX 0.32.4's complex64 results for tests/complex_cases.py into
mlx_complex.json.  Run with the reference build:
    /work/mlxref/bin/python tests/data/gen_complex.py"""
import json
import os
import sys

import mlx.core as mx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from complex_cases import CASES, ENV  # noqa: E402


def record(src, env):
    try:
        r = eval(src, env)
        mx.eval(r)
    except Exception as e:      # the type is what the replay checks
        return {"error": type(e).__name__}
    vals = r.reshape(-1).tolist()
    if r.dtype == mx.complex64:
        vals = [[v.real, v.imag] for v in vals]
    return {"dtype": str(r.dtype).split(".")[-1], "shape": list(r.shape), "values": vals}


env = {"mx": mx}
exec(ENV, env)
out = {name: record(src, env) for name, src in CASES}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlx_complex.json")
with open(path, "w") as f:
    json.dump(out, f, indent=0, sort_keys=True)
print(f"wrote {len(out)} cases to {path}")
