"""Index updates replayed against MLX 0.32.4's recorded results.

x[idx] = v, x.at[idx].add/subtract/multiply/divide/maximum/minimum(v) over ints, slices
(out of range, negative, stepped, empty), arrays, tuples, None, Ellipsis, and boolean-mask
assignment with MLX's value-shape rules, on several dtypes.  The cases are in
index_update_cases.py; data/gen_index_updates.py recorded MLX's result (dtype, shape,
values) or exception type for each in data/mlx_index_updates.json.
"""
import json
import os
import re

import numpy as np
import pytest

import mlxc.core as mx
from index_update_cases import CASES, setm

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, "data", "mlx_index_updates.json")) as f:
    RECORDED = json.load(f)

# Cases where mlxc chooses otherwise, with the reason (and the test that checks mlxc's way).
DIFFERS = {c[0]: "MLX 0.32 ignores an out-of-range int index in an update; mlxc raises "
                  "IndexError as for reads (test_write_bounds.py)"
           for c in CASES if re.search(r"int_oob|tuple_oob|\[(10|-6|5|\(5,0\)|\(0,9\)|\.\.\.,9)\]",
                                       c[0]) and "error" not in RECORDED[c[0]]}
DIFFERS.update({
    "read mask": "MLX 0.32 refuses boolean reads; mlxc reads like numpy "
                 "(test_masked_scatter.py::test_mask_read_matches_numpy)",
})


def _run(src):
    try:
        r = eval(src, {"mx": mx, "setm": setm})
        mx.eval(r)
    except Exception as e:
        return {"error": type(e).__name__, "message": str(e)}
    vals = r.reshape(-1).tolist()
    if r.dtype == mx.complex64:
        vals = [[v.real, v.imag] for v in vals]
    return {"dtype": str(r.dtype).split(".")[-1], "shape": list(r.shape), "values": vals}


@pytest.mark.parametrize("name,src", [c for c in CASES if c[0] not in DIFFERS],
                         ids=[c[0] for c in CASES if c[0] not in DIFFERS])
def test_matches_recorded_mlx(name, src):
    want = RECORDED[name]
    got = _run(src)
    if "error" in want:
        assert got.get("error") == want["error"], (src, got)
        return
    assert "error" not in got, (src, got)
    assert got["dtype"] == want["dtype"] and got["shape"] == want["shape"], (src, got, want)
    g = np.array(got["values"], dtype=np.float64)
    w = np.array(want["values"], dtype=np.float64)
    np.testing.assert_allclose(g, w, rtol=2e-7, atol=0, err_msg=src)


@pytest.mark.mlxc_only
@pytest.mark.parametrize("name", sorted(n for n in DIFFERS if n != "read mask"))
def test_out_of_range_int_updates_raise(name):
    src = dict(CASES)[name]
    got = _run(src)
    assert got.get("error") == "IndexError" and "out of bounds" in got["message"], (src, got)
