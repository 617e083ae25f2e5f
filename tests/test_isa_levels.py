"""The kernels at every SIMD level this machine has (MLXC_CPU_ISA forces a level at
import, so each level runs in its own interpreter), checked against numpy."""
import json
import subprocess
import sys

import pytest

import mlxc.core as mx

pytestmark = pytest.mark.mlxc_only

_ORDER = ["scalar", "avx2", "avx512"]
_DETECTED = mx.cpu_info()["isa"]
LEVELS = _ORDER[:_ORDER.index(_DETECTED) + 1] if _DETECTED in _ORDER else [_DETECTED]

# Runs in the child: results of the SIMD families as nested lists, plus the level seen.
_CHILD = r"""
import json, numpy as np, mlxc.core as mx
rng = np.random.default_rng(0)
out = {"isa": mx.cpu_info()["isa"]}
for name, (m, k, n) in {"mm": (37, 53, 29), "mv": (64, 300, 1), "big": (130, 257, 70)}.items():
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out[name] = [(mx.array(a) @ mx.array(b)).tolist(), (a.astype(np.float64) @ b).tolist()]
    out[name + "_T"] = [(mx.array(b).T @ mx.array(a).T).tolist(), (b.T.astype(np.float64) @ a.T).tolist()]
x = np.linspace(-20, 20, 100001).astype(np.float32)
for f in ("exp", "tanh", "sigmoid", "erf"):
    out[f] = getattr(mx, f)(mx.array(x)).tolist()
y = np.linspace(1e-6, 1e6, 100001).astype(np.float32)
out["log"] = mx.log(mx.array(y)).tolist()
out["add"] = (mx.array(x) + mx.array(y)).tolist()
t = rng.standard_normal((77, 203)).astype(np.float32)   # ragged for the 8 x 8 blocks
out["transpose"] = [mx.contiguous(mx.array(t).T).tolist(), t.T.tolist()]
# every float16 bit pattern to float32 and back, and float32 values (random bits:
# NaNs, subnormals, overflow) to both half types, compared as bits by the parent
h = np.arange(1 << 16, dtype=np.uint16)
hx = mx.array(h).view(mx.float16)
out["h2f"] = np.array(hx.astype(mx.float32)).view(np.uint32).tolist()
out["h2f2h"] = np.array(hx.astype(mx.float32).astype(mx.float16)).view(np.uint16).tolist()
f = rng.integers(0, 1 << 32, size=20000, dtype=np.uint64).astype(np.uint32)
fx = mx.array(f).view(mx.float32)
out["f2h"] = np.array(fx.astype(mx.float16)).view(np.uint16).tolist()
out["f2bf"] = np.array(fx.astype(mx.bfloat16).view(mx.uint16)).tolist()
out["f32bits"] = f.tolist()
print(json.dumps(out))
"""


@pytest.mark.parametrize("level", LEVELS)
def test_kernels_at_level(level):
    import numpy as np
    from scipy_free_erf import erf64
    from helpers import CHILD_CWD, child_env
    r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(MLXC_CPU_ISA=level),
                       capture_output=True, text=True, timeout=300, cwd=CHILD_CWD)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["isa"] == level
    np.testing.assert_array_equal(*out["transpose"])
    _check_half_casts(out)
    for name in ("mm", "mv", "big", "mm_T", "mv_T", "big_T"):
        got, want = (np.array(v) for v in out[name])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    x = np.linspace(-20, 20, 100001).astype(np.float32).astype(np.float64)
    y = np.linspace(1e-6, 1e6, 100001).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(out["exp"], np.exp(x), rtol=3e-7)
    np.testing.assert_allclose(out["tanh"], np.tanh(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out["sigmoid"], 1 / (1 + np.exp(-x)), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(out["erf"], erf64(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out["log"], np.log(y), rtol=3e-7, atol=1e-7)
    np.testing.assert_allclose(out["add"], (x.astype(np.float32) + y.astype(np.float32)),
                               rtol=0)


def _check_half_casts(out):
    """Half conversions against numpy (float16) and a float64 rounding (bfloat16)."""
    import numpy as np
    h = np.arange(1 << 16, dtype=np.uint16)
    want = h.view(np.float16).astype(np.float32)
    got = np.array(out["h2f"], dtype=np.uint32).view(np.float32)
    nan = np.isnan(want)
    np.testing.assert_array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))
    assert np.isnan(got[nan]).all()
    # non-NaN halves survive the round trip bit for bit
    back = np.array(out["h2f2h"], dtype=np.uint16)
    np.testing.assert_array_equal(back[~nan], h[~nan])
    f = np.array(out["f32bits"], dtype=np.uint32).view(np.float32)
    fnan = np.isnan(f)
    with np.errstate(over="ignore"):
        want_h = f.astype(np.float16)
    got_h = np.array(out["f2h"], dtype=np.uint16)
    np.testing.assert_array_equal(got_h[~fnan], want_h[~fnan].view(np.uint16))
    assert np.isnan(got_h[fnan].view(np.float16)).all()
    # bfloat16: nearest-even rounding of the top 16 bits, checked in integers
    u = f.view(np.uint32).astype(np.uint64)
    want_bf = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    got_bf = np.array(out["f2bf"], dtype=np.uint16)
    np.testing.assert_array_equal(got_bf[~fnan], want_bf[~fnan])
    assert ((got_bf[fnan] & 0x7F80) == 0x7F80).all() and ((got_bf[fnan] & 0x7F) != 0).all()
