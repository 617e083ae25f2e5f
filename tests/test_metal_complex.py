"""metal/complex.metal (complex64 Unary, Binary, AsType), and the complex64 instances of
reduce.metal, scan.metal, sort.metal and the 64-bit moves of elementwise.metal/indexing.metal,
against the CPU kernels on the same inputs, at every lane order of the emulated device.

Bit-for-bit: add, subtract, multiply (the plain formula), divide (Smith's algorithm),
negative, conj, square, reciprocal, real, imag, exp, sin, cos, sinh, cosh, comparisons,
isnan/isinf/isfinite, casts to and from complex64, where; all/any; cummax/cummin (serial,
the CPU's order and NaN rule); sort, argsort (and partition, topk, max, min, argmax,
argmin, which run through them); reshape/concatenate/pad/take/take_along_axis/slice
update/scatter assignment (64-bit moves).  Through metal:: float math instead of the C
library's complex functions: abs within 2 ulps; sqrt, rsqrt, sign, log, log2, log10, tan,
tanh within 8 eps32 of |result| (measured at most 2.5 eps32 over these inputs); arcsin,
arccos, arctan, arcsinh, arccosh, arctanh (Hull et al.'s algorithm; the CPU: glibc's)
within 6 eps32 of |result| (measured at most 3 eps32 over these inputs and a sweep of
magnitudes 1e-8 .. 1e8), with the same infinities and NaN positions at C99's special
values; power within 16 eps32 of |result| (exp(b log a) carries log's error times
|b log a|).  Order-dependent (a tree on the GPU, the CPU's fixed order): sum within
2 n eps32 of the sum of |parts| per component; prod and cumprod within 3 n eps32 of
|result|; cumsum within 2 n eps32 of the running sum of |parts| per component;
logcumsumexp within 8 n eps32 (1 + |result|).
"""
import re

import numpy as np
import pytest

import mlxc.core as mx
from test_metal_kernels import GPU_DTYPES, lanes, values  # noqa: F401
from test_metal_scan import MODES, shuffled  # noqa: F401
from test_metal_sort import small_blocks  # noqa: F401

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


def special_grid():
    parts = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -2.0, 25.0, -50.0, 1e30, -1e30]
    return np.array([complex(a, b) for a in parts for b in parts], np.complex64)


def test_complex_specials(lanes):
    """Infinite, NaN, zero and overflowing parts: C99 Annex G's values, with the CPU's C
    library's choice of signs where Annex G leaves them open."""
    s = special_grid()
    x = mx.array(s)
    for name in EXACT_UNARY + list(CLOSE_UNARY) + INVERSE + ["abs"]:
        g, c = both(getattr(mx, name), x)
        if c.dtype == np.bool_:
            same(g, c)
        else:
            same_specials(g, c, 8)
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


INVERSE = ["arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"]
SPECIALS = np.array([0, -0.0, 1, -1, 1j, -1j, complex(1, -0.0), complex(-1, -0.0), np.inf,
                     -np.inf, 1j * np.inf, -1j * np.inf, complex(np.inf, np.inf),
                     complex(-np.inf, 2), complex(2, -np.inf), np.nan, complex(np.nan, 1),
                     complex(1, np.nan), complex(0, np.nan), complex(np.nan, 0),
                     complex(np.inf, np.nan), complex(np.nan, np.inf),
                     complex(np.nan, -np.inf)], np.complex64)


def same_specials(a, b, k=6):
    """Per part: NaN where b is NaN, the same infinities and signed zeros, else within
    k eps32 of |b| (float32 results: of b)."""
    mag = np.abs(b.astype(np.complex128) if b.dtype == np.complex64 else b)
    if b.dtype == np.complex64:                 # a NaN part does not count in |b|
        p = b.view(np.float32).astype(np.float64)
        p[np.isnan(p)] = 0.0
        mag = np.hypot(p[0::2], p[1::2])
    if a.dtype == np.complex64:
        a, b, mag = a.view(np.float32), b.view(np.float32), np.repeat(mag, 2)
    nan = np.isnan(b)
    assert np.array_equal(np.isnan(a), nan), (a, b)
    exact = ~nan & (np.isinf(b) | (b == 0))
    np.testing.assert_array_equal(a[exact].view(np.uint32), b[exact].view(np.uint32))
    rest = ~nan & ~exact
    assert np.all(np.abs(a[rest] - b[rest]) <= k * EPS32 * mag[rest]), (a, b)


def test_complex_inverse_trig(lanes):
    rng = np.random.default_rng(12)
    scale = 10.0 ** rng.uniform(-8, 8, (2, 400))
    sweep = rng.standard_normal(400) * scale[0] + 1j * rng.standard_normal(400) * scale[1]
    near = np.array([1 + 1e-7j, 1 - 1e-30j, -1 + 1e-20j, 0.999 + 1e-9j, 1.001 - 1e-9j,
                     1e-30 + 1e-30j, 1e20 + 1e20j, 3e30, -3e30j, 2, -2, 0.5, 1j * 0.5],
                    np.complex64)
    z = np.concatenate([cvalues(300, 10), sweep.astype(np.complex64), near])
    x = mx.array(z)
    for name in INVERSE:
        close(*both(getattr(mx, name), x), 6)
        same_specials(*both(getattr(mx, name), mx.array(SPECIALS)))
    xs = mx.reshape(x[:300], (20, 15))[::-2, 1::3]           # strided input
    close(*both(mx.arcsinh, xs), 6)


def test_complex_reduce(lanes):
    rng = np.random.default_rng(13)
    for shape in [(3, 1), (4, 31), (2, 33), (3, 300), (5, 0)]:
        z = cvalues(int(np.prod(shape)), 14).reshape(shape)
        x = mx.array(z)
        for axis in [1, 0, None]:
            g, c = both(lambda a: mx.sum(a, axis=axis), x)
            n = z.size if axis is None else z.shape[axis]
            for part in (np.real, np.imag):
                bound = 2 * max(n, 1) * EPS32 * np.sum(np.abs(part(z)), axis=axis)
                assert np.all(np.abs(part(g) - part(c)) <= bound)
            for red in (mx.all, mx.any):
                same(*both(lambda a: red(a, axis=axis), x))
        # products of unit-modulus-ish factors (no overflow): within 3 n eps32 of |result|
        u = np.exp(1j * rng.uniform(-3, 3, shape)) * rng.uniform(0.9, 1.1, shape)
        u = mx.array(u.astype(np.complex64))
        for axis in [1, 0]:
            g, c = both(lambda a: mx.prod(a, axis=axis), u)
            n = max(shape[axis], 1)
            assert np.all(np.abs(g - c) <= 3 * n * EPS32 * np.abs(c))
    # all/any: zeros of both signs, either part nonzero, NaN (nonzero)
    b = np.array([[0, -0.0, 0], [0, 1j, 0], [np.nan, 0, 0], [2, 3j, -1]], np.complex64)
    for red in (mx.all, mx.any):
        same(*both(lambda a: red(a, axis=1), mx.array(b)))
        same(*both(lambda a: red(a, axis=0), mx.array(b)))
    # strided input: a transposed slice
    x = mx.array(cvalues(600, 15).reshape(20, 30))[::2, 1::3].T
    g, c = both(lambda a: mx.sum(a, axis=0), x)
    np.testing.assert_allclose(g, c, rtol=0, atol=64 * EPS32 * 10 * 20)


def scan_values(shape, seed, op):
    rng = np.random.default_rng(seed)
    if op == "cumprod":
        z = np.exp(1j * rng.uniform(-3, 3, shape)) * rng.uniform(0.95, 1.05, shape)
        return z.astype(np.complex64)
    z = np.round(rng.standard_normal(shape) * 2) + 1j * np.round(rng.standard_normal(shape))
    z = z.astype(np.complex64)
    flat = z.reshape(-1)
    if op in ("cummax", "cummin"):              # ties, -0, NaN in either part, infinities
        flat[5::37] = complex(-0.0, 0)
        flat[7::41] = complex(np.nan, 1)
        flat[11::43] = complex(1, np.nan)
        flat[13::47] = complex(np.inf, -np.inf)
    return z


def test_complex_scan(lanes):
    for op in ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]:
        f = getattr(mx, op)
        for shape in [(2, 1), (3, 100), (2, 2500)]:
            z = scan_values(shape, 16, op)
            n = shape[1]
            for rev, inc in MODES:
                g, c = both(lambda a: f(a, axis=1, reverse=rev, inclusive=inc), mx.array(z))
                if op in ("cummax", "cummin"):
                    same(g, c)
                elif op == "cumsum":
                    for part in (np.real, np.imag):
                        p = np.abs(part(z))[:, ::-1] if rev else np.abs(part(z))
                        run = np.cumsum(p, axis=1)
                        run = run[:, ::-1] if rev else run
                        assert np.all(np.abs(part(g) - part(c)) <= 2 * n * EPS32 * run)
                elif op == "cumprod":
                    assert np.all(np.abs(g - c) <= 3 * n * EPS32 * np.abs(c))
                else:
                    close_lae(g, c, n)
    # a column scan of a strided input; NaN sticks in logcumsumexp
    z = scan_values((40, 6), 17, "cummax")
    x = mx.array(z)[::2].T
    same(*both(lambda a: mx.cummax(a, axis=1, reverse=True), x))
    same(*both(lambda a: mx.cummin(a, axis=0), x))
    g, c = both(lambda a: mx.logcumsumexp(a, axis=1), x)
    close_lae(g, c, 20)


def close_lae(g, c, n):
    """NaN where c is NaN, c's infinities (the exclusive scans' identity -inf + 0i), else
    within 8 n eps32 (1 + |c|)."""
    nan = np.isnan(c)
    assert np.array_equal(np.isnan(g), nan)
    inf = ~nan & np.isinf(c)
    np.testing.assert_array_equal(g[inf], c[inf])
    ok = ~nan & ~inf
    assert np.all(np.abs(g[ok] - c[ok]) <= 8 * n * EPS32 * (1 + np.abs(c[ok])))


def sort_values(shape, seed):
    """Ties in the real part, NaN in either part, -0 and +0, infinities."""
    rng = np.random.default_rng(seed)
    z = np.round(rng.standard_normal(shape) * 2) + 1j * np.round(rng.standard_normal(shape))
    z = z.astype(np.complex64)
    flat = z.reshape(-1)
    flat[::7] = complex(np.nan, 2)
    flat[3::11] = complex(1, np.nan)
    flat[4::13] = complex(np.nan, np.nan)
    flat[1::5] = complex(-0.0, 1)
    flat[2::5] = complex(0.0, 1)
    flat[6::17] = complex(np.inf, -1)
    flat[8::19] = complex(-np.inf, np.inf)
    return z


def test_complex_sort(lanes, small_blocks):
    for shape, axis in [((3, 300), 1), ((65, 2), 0), ((64,), 0), ((1,), 0)]:
        x = mx.array(sort_values(shape, 18))
        g, c = both(lambda a: mx.argsort(a, axis=axis), x)
        np.testing.assert_array_equal(g, c)
        same(*both(lambda a: mx.sort(a, axis=axis), x))
    x = mx.array(sort_values((40, 9), 19))[::3, ::-2]                # strided
    same(*both(lambda a: mx.sort(a, axis=0), x))
    np.testing.assert_array_equal(*both(lambda a: mx.argsort(a, axis=1), x))
    # ops built on the sorts
    x = mx.array(sort_values((4, 70), 20))
    for f in (lambda a: mx.partition(a, 5, axis=1), lambda a: mx.topk(a, 3, axis=1),
              lambda a: mx.max(a, axis=1), lambda a: mx.min(a, axis=0)):
        same(*both(f, x))
    for f in (lambda a: mx.argmax(a, axis=1), lambda a: mx.argmin(a, axis=0)):
        np.testing.assert_array_equal(*both(f, x))


def test_complex_moves(lanes):
    z = cvalues(120, 21).reshape(8, 15)
    x = mx.array(z)
    idx = mx.array(np.array([3, 0, 7, 3], np.int32))
    for f in (lambda a: mx.reshape(a.T, (120,)), lambda a: mx.concatenate([a, a[::-1]], axis=1),
              lambda a: mx.pad(a, 2), lambda a: mx.take(a, idx, axis=0),
              lambda a: mx.take_along_axis(a, mx.array(np.arange(8)[:, None] % 3), axis=1),
              lambda a: mx.slice_update(a, a[:2, :3] * 2, mx.array([1, 4]), axes=(0, 1)),
              lambda a: mx.roll(a, 5, axis=1), lambda a: mx.repeat(a, 2, axis=0),
              lambda a: a.at[mx.array([1, 5])].multiply(1) if False else mx.where(
                  mx.real(a) > 0, a, mx.conj(a))):
        same(*both(f, x))

    def assign(a):
        a = a + 0
        a[mx.array([1, 5])] = mx.array(np.complex64(2 - 3j))
        return a
    same(*both(assign, x))


def test_complex_scatter_and_searchsorted(lanes):
    """Combining scatters of complex64 run a column per thread in index order: the CPU's
    bits (colliding indices included); searchsorted in the sort's order."""
    z = mx.array(sort_values((9, 6), 22))
    upd = mx.array(cvalues(42, 23).reshape(7, 6))
    idx = mx.array(np.array([2, 0, 2, 8, -1, 2, 0], np.int64))
    for mode in ("add", "multiply", "maximum", "minimum"):
        same(*both(lambda a: getattr(a.at[idx], mode)(upd), z))
    along = mx.array(np.array([[0, 2, 2], [1, 1, 0]] * 3, np.int32).reshape(6, 3)[:, :1])
    same(*both(lambda a: mx.put_along_axis(a, along, a[:6, :1] * 2, axis=1), z[:6]))
    seq = mx.sort(mx.array(sort_values((300,), 24)))
    vals = mx.array(sort_values((5, 40), 25))
    for side in ("left", "right"):
        np.testing.assert_array_equal(*both(lambda v: mx.searchsorted(seq, v, side=side), vals))


def test_complex_matmul(lanes):
    """Within 4 K eps32 of sum_k |a_ik| |b_kj| (the CPU: four real GEMMs in its own order)."""
    rng = np.random.default_rng(26)
    for (m, k, n) in [(1, 1, 1), (33, 17, 40), (5, 70, 3)]:
        a = cvalues(m * k, 27).reshape(m, k)
        b = cvalues(k * n, 28).reshape(k, n)
        g, c = both(mx.matmul, mx.array(a), mx.array(b))
        bound = 4 * k * EPS32 * (np.abs(a) @ np.abs(b))
        assert np.all(np.abs(g - c) <= bound)
    # batched, transposed operand, AddMM (real alpha and beta scale both parts), K = 0
    a = mx.array(cvalues(2 * 6 * 9, 29).reshape(2, 6, 9))
    b = mx.array(cvalues(6 * 4, 30).reshape(6, 4))
    g, c = both(lambda x, y: mx.swapaxes(x, 1, 2) @ y, a, b)
    np.testing.assert_allclose(g, c, rtol=0, atol=4 * 6 * EPS32 * 30)
    cm = mx.array(cvalues(4, 31))
    g, c = both(lambda x, y: mx.addmm(cm, x[0].T, y, alpha=0.5, beta=-2.0), a, b)
    np.testing.assert_allclose(g, c, rtol=0, atol=4 * 6 * EPS32 * 30)
    e = mx.zeros((3, 0), mx.complex64)
    same(*both(lambda x: mx.addmm(mx.ones((3, 2), mx.complex64), x, mx.zeros((0, 2),
                                                                           mx.complex64)), e))


def test_complex_errors_as_cpu(gpu):
    """Ops the CPU rejects for complex64 are rejected the same way with a GPU stream; a bad
    scatter index raises the CPU's error."""
    x = mx.array(cvalues(4, 9).reshape(2, 2))
    for f in (mx.expm1, mx.erf, mx.floor):
        with pytest.raises(Exception) as cpu_err:
            mx.eval(f(x))
        with pytest.raises(type(cpu_err.value)):
            mx.eval(f(x, stream=mx.gpu))
    with pytest.raises(Exception) as cpu_err:
        mx.eval(x.at[mx.array([5])].add(x[:1]))
    with pytest.raises(type(cpu_err.value), match=re.escape(str(cpu_err.value))):
        with mx.stream(mx.gpu):
            mx.eval(x.at[mx.array([5])].add(x[:1]))
