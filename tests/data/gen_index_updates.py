"""Records MLX 0.32.4's results for index updates (x[idx] = v, x.at[idx].op(v)) and
boolean-mask assignment into mlx_index_updates.json.  Run with the reference build:
    /work/mlxref/bin/python tests/data/gen_index_updates.py
Each case is an expression over `mx`; the record is either the result (dtype, shape,
values) or the exception type.  tests/test_index_updates.py replays them on mlxc."""
import json
import os
import sys

import mlx.core as mx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from index_update_cases import CASES, setm  # noqa: E402


def record(src):
    try:
        r = eval(src, {"mx": mx, "setm": setm})
        mx.eval(r)
    except Exception as e:      # the type is what the replay checks
        return {"error": type(e).__name__}
    return {"dtype": str(r.dtype).split(".")[-1], "shape": list(r.shape),
            "values": [[v.real, v.imag] for v in r.reshape(-1).tolist()]
            if r.dtype == mx.complex64 else r.reshape(-1).tolist()}


out = {name: record(src) for name, src in CASES}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlx_index_updates.json")
with open(path, "w") as f:
    json.dump(out, f, indent=0, sort_keys=True)
print(f"wrote {len(out)} cases to {path}")
