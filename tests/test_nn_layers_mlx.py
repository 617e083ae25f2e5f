"""Every mlxc.nn layer, activation and initializer against MLX 0.32.4's recorded results
(cases: nn_cases.py; recording: data/gen_nn_reference.py -> data/mlx_nn_reference.npz).

Same seed -> same initializer draws, same parameter names, same outputs (float32
rounding tolerance)."""
import os

import numpy as np
import pytest

import mlxc.core as mx
import mlxc.nn as nn
from nn_cases import CASES, NEEDS

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "mlx_nn_reference.npz"))


def _has(path):
    obj = mx
    for part in path.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_mlx(name):
    missing = [n for n in NEEDS[name] if not _has(n)]
    if missing:
        pytest.skip(f"mlxc.core lacks {', '.join(missing)} (built on another branch)")
    got = CASES[name](mx, nn)
    expected = {k.split("/", 1)[1]: REF[k] for k in REF.files if k.split("/", 1)[0] == name}
    # The same keys: parameter names included.
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        value = got[key]
        if value.dtype in (mx.float16, mx.bfloat16):
            value = value.astype(mx.float32)
        have = np.array(value)
        assert have.shape == want.shape, key
        assert have.dtype == want.dtype, key
        if have.dtype.kind in "iub":
            np.testing.assert_array_equal(have, want, err_msg=key)
        else:
            np.testing.assert_allclose(have, want, rtol=2e-5, atol=2e-6, err_msg=key)
