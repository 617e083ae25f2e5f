"""Replays tests/data/optim_cases.py on mlxc and compares with MLX's recorded
answers (tests/data/optim_reference.npz, written by gen_optim_reference.py)."""
import json
import os
import sys
from types import SimpleNamespace

import numpy as np

import mlxc.core as mx
import mlxc.nn.losses as losses
import mlxc.optimizers as optim
from mlxc.utils import tree_flatten

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
import optim_cases  # noqa: E402

_REF = np.load(os.path.join(HERE, "data", "optim_reference.npz"))
META = json.loads(str(_REF["__meta__"]))
LIB = SimpleNamespace(mx=mx, optim=optim, losses=losses, tree_flatten=tree_flatten)

# float32 rounding: the recorded graphs are the same ops in the same order, so
# differences come from kernel-level rounding (sums, transcendental functions,
# matmul), a few ulp that a handful of optimizer steps may amplify slightly.
RTOL = {"float32": 2e-6, "float16": 1e-3, "bfloat16": 8e-3}


def cases(prefix):
    """pytest params (name, thunk) of the cases whose name starts with ``prefix``."""
    import pytest
    return [pytest.param(n, t, id=n) for n, t in optim_cases.cases(LIB)
            if n.startswith(prefix)]


def expected(name):
    """``{key: (dtype name, float64 array)}`` or ``{"error": type name}``."""
    meta = META[name]
    if isinstance(meta, dict):
        return meta
    flat, out, at = _REF[name], {}, 0
    for key, dtype, shape in meta:
        size = int(np.prod(shape)) if shape else 1
        out[key] = (dtype, flat[at:at + size].reshape(shape))
        at += size
    return out


def to_numpy(a):
    if a.dtype in (mx.bfloat16, mx.float16):
        a = a.astype(mx.float32)
    return np.array(a).astype(np.float64)


def check(name, thunk, rtol=None, atol=1e-7):
    """Run the case and compare it with the record (errors by type)."""
    ref = expected(name)
    if "error" in ref:
        import pytest
        with pytest.raises(Exception) as info:
            thunk()
        assert type(info.value).__name__ == ref["error"], (name, info.value)
        return
    out = thunk()
    assert sorted(out) == sorted(ref), name
    for key, (dtype, want) in ref.items():
        got = out[key]
        assert str(got.dtype).split(".")[-1] == dtype, (name, key, got.dtype)
        assert tuple(got.shape) == want.shape, (name, key, got.shape)
        tol = rtol if rtol is not None else RTOL.get(dtype, 0)
        np.testing.assert_allclose(to_numpy(got), want, rtol=tol, atol=atol,
                                   err_msg=f"{name} {key}")
