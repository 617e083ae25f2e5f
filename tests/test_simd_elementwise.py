"""The per-level float kernels of unary.c (unary_simd.h: neg, abs, sqrt, square,
rsqrt, reciprocal), binary.c (binary_simd.h: the six comparisons) and select.c (one
kernel per element size), at every SIMD level this machine has (MLXC_CPU_ISA, one
interpreter per level) and at 1 and 3 threads, against numpy bit for bit: special
values (NaN payloads, signed zeros, infinities, subnormals), lengths around the vector
widths and the threads' chunks, strided and broadcast operands."""
import json
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx

from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

_ORDER = ["scalar", "avx2", "avx512"]
_DETECTED = mx.cpu_info()["isa"]
LEVELS = _ORDER[:_ORDER.index(_DETECTED) + 1] if _DETECTED in _ORDER else [_DETECTED]

# The inputs, made the same way in the child and here (special values, NaN payloads;
# select's conditions and operands).
_SPECIAL = r"""
def special(n, dt, seed):
    r = np.random.default_rng(seed)
    a = (r.standard_normal(n) * 3).astype(dt)
    pick = r.integers(0, 10, n)
    a[pick == 0] = np.nan
    a[pick == 1] = np.inf
    a[pick == 2] = -np.inf
    a[pick == 3] = -0.0
    a[pick == 4] = 0.0
    a[pick == 5] = np.finfo(dt).tiny / dt(4)
    payload = np.array([0x7fc00123, 0xffc00456], np.uint32) if dt == np.float32 else \
        np.array([0x7ff8000000000123, 0xfff8000000000456], np.uint64)
    k = np.flatnonzero(pick == 6)
    a[k] = payload[k % 2].view(dt)
    return a
def where_inputs(it, n):
    r = np.random.default_rng(n)
    c = r.integers(0, 2, n).astype(bool)
    return c, r.integers(0, 100, n).astype(it), r.integers(100, 200, n).astype(it)
"""
exec(_SPECIAL)

# In the child: each result as hex bytes, with the kernel families' picks.
_CHILD = r"""
import json, numpy as np, mlxc.core as mx
""" + _SPECIAL + r"""
out = {"kernels": mx.cpu_info()["kernels"]}
for dt in (np.float32, np.float64):
    for n in (1, 7, 16, 33, 1000, 70001):
        x, y = special(n, dt, n), special(n, dt, n + 1)
        X, Y = mx.array(x, dtype=getattr(mx, np.dtype(dt).name)), mx.array(y, dtype=getattr(mx, np.dtype(dt).name))
        key = "%s_%d_" % (np.dtype(dt).name, n)
        for f in ("negative", "abs", "sqrt", "square", "rsqrt", "reciprocal"):
            out[key + f] = np.array(getattr(mx, f)(X)).tobytes().hex()
        out[key + "neg_strided"] = np.array(-X[::3]).tobytes().hex()
        for f in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
            out[key + f] = np.array(getattr(mx, f)(X, Y)).tobytes().hex()
            out[key + f + "_scalar"] = np.array(getattr(mx, f)(X, Y[0])).tobytes().hex()
for it in ("uint8", "int16", "float32", "float64"):
    for n in (1, 31, 64, 1000, 70001):
        c, a, b = where_inputs(it, n)
        key = "where_%s_%d" % (it, n)
        A, B = (mx.array(v, dtype=getattr(mx, it)) for v in (a, b))
        out[key] = np.array(mx.where(mx.array(c), A, B)).tobytes().hex()
        out[key + "_bcast"] = np.array(mx.where(mx.array(c), A[0], B)).tobytes().hex()
print(json.dumps(out))
"""


def _expected():
    want = {}
    with np.errstate(all="ignore"):
        for dt in (np.float32, np.float64):
            for n in (1, 7, 16, 33, 1000, 70001):
                x, y = special(n, dt, n), special(n, dt, n + 1)  # noqa: F821
                key = "%s_%d_" % (np.dtype(dt).name, n)
                one = dt(1)
                for f, v in (("negative", -x), ("abs", np.abs(x)), ("sqrt", np.sqrt(x)),
                             ("square", x * x), ("rsqrt", one / np.sqrt(x)),
                             ("reciprocal", one / x)):
                    want[key + f] = v
                want[key + "neg_strided"] = -x[::3]
                for f in ("equal", "not_equal", "less", "less_equal", "greater",
                          "greater_equal"):
                    want[key + f] = getattr(np, f)(x, y)
                    want[key + f + "_scalar"] = getattr(np, f)(x, y[0])
        for it in ("uint8", "int16", "float32", "float64"):
            for n in (1, 31, 64, 1000, 70001):
                c, a, b = where_inputs(it, n)  # noqa: F821
                key = "where_%s_%d" % (it, n)
                want[key] = np.where(c, a, b)
                want[key + "_bcast"] = np.where(c, a[0], b)
    return want


_EXACT_NAN = ("negative", "abs", "neg_strided")   # sign flips: the payload is kept


@pytest.mark.parametrize("threads", ["1", "3"])
@pytest.mark.parametrize("level", LEVELS)
def test_float_kernels_at_level(level, threads):
    out = subprocess.run([sys.executable, "-c", _CHILD],
                         env=child_env(MLXC_CPU_ISA=level, MLXC_NUM_THREADS=threads),
                         cwd=CHILD_CWD, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for fam in ("unary", "binary", "select"):
        assert got["kernels"][fam] == level
    for key, w in _expected().items():
        g = np.frombuffer(bytes.fromhex(got[key]), dtype=w.dtype)
        assert g.shape == w.shape, key
        if w.dtype.kind == "f" and not key.endswith(_EXACT_NAN):
            # other ops keep "a NaN": compare NaN as NaN, everything else bit for bit
            assert np.array_equal(np.isnan(g), np.isnan(w)), key
            g, w = np.where(np.isnan(g), 0, g), np.where(np.isnan(w), 0, w)
        assert g.tobytes() == w.tobytes(), key
