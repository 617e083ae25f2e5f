"""metal/complex.metal (complex64 Unary, Binary, AsType, Select) against the CPU kernels
on the same inputs, at every lane order of the emulated device.

Bit-for-bit: add, subtract, multiply (the plain formula), divide (Smith's algorithm),
negative, conj, square, reciprocal, real, imag, exp, sin, cos, sinh, cosh, comparisons,
isnan/isinf/isfinite, casts to and from complex64, where.  Through metal:: float math
instead of the C library's complex functions: abs within 2 ulps; sqrt, rsqrt, sign, log,
log2, log10, tan, tanh within 8 eps32 of |result| (measured at most 2.5 eps32 over these
inputs) and power within 16 eps32 of |result| (exp(b log a) carries log's error times
|b log a|).  The inverse trig/hyperbolic functions have no complex64 kernel: TypeError.
"""
import numpy as np
import pytest

import mlxc.core as mx
from test_metal_kernels import GPU_DTYPES, lanes, values  # noqa: F401
from test_metal_scan import shuffled  # noqa: F401

EPS32 = 2.0 ** -23
EXACT_UNARY = ["negative", "conj", "square", "reciprocal", "real", "imag", "exp", "sin", "cos",
               "sinh", "cosh", "isnan", "isinf", "isfinite"]
CLOSE_UNARY = {"sqrt": 8, "rsqrt": 8, "sign": 8, "log": 8, "log2": 8, "log10": 8, "tan": 8,
               "tanh": 8}


def cvalues(n, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(n) * 2 + 1j * rng.standard_normal(n) * 2).astype(np.complex64)
    z[::17] = np.round(z[::17])                 # exact integers, zeros, points on the axes
    z[3::29] = 1.0 + 1e-4j                      # |z| near 1 (log's delicate case)
    return z


def both(f, *args):
    with mx.stream(mx.gpu):
        g = f(*args)
    c = f(*args)
    mx.eval(g, c)
    return np.array(g), np.array(c)


def same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.dtype == np.complex64:
        a, b = a.view(np.float32), b.view(np.float32)
    if a.dtype == np.float32:
        nan = np.isnan(a) & np.isnan(b)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        a, b = a.view(np.uint32)[~nan], b.view(np.uint32)[~nan]
    np.testing.assert_array_equal(a, b)


def close(a, b, k):
    """Within k eps32 of |b| where b is finite; elsewhere the same infinities and NaNs."""
    assert a.dtype == b.dtype == np.complex64
    fin = np.isfinite(b)
    fa, fb = a[~fin].view(np.float32), b[~fin].view(np.float32)
    assert np.array_equal(np.isnan(fa), np.isnan(fb)), (a[~fin], b[~fin])
    inf = np.isinf(fb)
    assert np.array_equal(fa[inf], fb[inf]), (a[~fin], b[~fin])
    a, b = a[fin], b[fin]
    err = np.abs(a.astype(np.complex128) - b.astype(np.complex128))
    assert np.all(err <= k * EPS32 * np.abs(b.astype(np.complex128))), np.max(
        err / np.abs(b.astype(np.complex128)) / EPS32)


def test_complex_unary(lanes):
    x = mx.array(cvalues(300, 1))
    for name in EXACT_UNARY:
        same(*both(getattr(mx, name), x))
    for name, k in CLOSE_UNARY.items():
        close(*both(getattr(mx, name), x), k)
    g, c = both(mx.abs, x)
    assert g.dtype == np.float32
    ia, ib = g.view(np.int32).astype(np.int64), c.view(np.int32).astype(np.int64)
    assert np.max(np.abs(ia - ib)) <= 2
    # strided and broadcast inputs
    xs = mx.reshape(x, (20, 15))[::-3, 1::2]
    same(*both(mx.square, xs))
    same(*both(mx.conj, mx.broadcast_to(x[:5], (4, 5))))


def test_complex_specials(lanes):
    s = np.array([0, -0.0, 1j, -1j, np.inf, -np.inf, 1j * np.inf, np.nan, complex(np.nan, 1),
                  complex(1, np.nan), complex(np.inf, np.nan)], np.complex64)
    x = mx.array(s)
    for name in ["negative", "conj", "real", "imag", "isnan", "isinf", "isfinite"]:
        same(*both(getattr(mx, name), x))
    y = mx.array(np.roll(s, 3))
    for name in ["add", "subtract", "equal", "not_equal"]:
        same(*both(getattr(mx, name), x, y))


def test_complex_binary(lanes):
    x = mx.array(cvalues(300, 2))
    y = mx.array(cvalues(300, 3))
    for name in ["add", "subtract", "multiply", "divide", "equal", "not_equal"]:
        same(*both(getattr(mx, name), x, y))
    same(*both(mx.divide, x, mx.array(np.zeros(300, np.complex64))))   # x / 0 component-wise
    same(*both(mx.equal, x, x))
    close(*both(mx.power, x, mx.array(cvalues(300, 4) * 0.5)), 16)
    # broadcasting
    same(*both(mx.multiply, mx.reshape(x, (30, 10)), mx.reshape(y[:10], (1, 10))))


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_complex_casts(shuffled, name):
    v = values(name, (7, 9), seed=5)
    same(*both(lambda a: a.astype(mx.complex64), v))
    z = mx.array(cvalues(63, 6).reshape(7, 9) * 20)
    dt = getattr(mx, name)
    if name == "bfloat16":                                       # numpy has no bfloat16
        g, c = both(lambda a: a.astype(dt).astype(mx.float32), z)
    else:
        g, c = both(lambda a: a.astype(dt), z)
    np.testing.assert_array_equal(g, c)
    same(*both(lambda a: a.T.astype(mx.complex64), z))          # strided complex copy


def test_complex_where(lanes):
    x = mx.array(cvalues(200, 7))
    y = mx.array(cvalues(200, 8))
    cond = mx.array(np.arange(200) % 3 == 0)
    same(*both(mx.where, cond, x, y))
    same(*both(mx.where, cond, x, mx.array(np.complex64(2 - 1j))))


def test_complex_missing_ops_raise(gpu):
    x = mx.array(cvalues(4, 9))
    with pytest.raises(TypeError, match=r"\[ArcSin\] complex64 has no Metal kernel"):
        mx.eval(mx.arcsin(x, stream=mx.gpu))
    np.testing.assert_allclose(np.array(mx.arcsin(x)), np.arcsin(np.array(x)), rtol=1e-5)
