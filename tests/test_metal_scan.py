"""metal/scan.metal (Scan: cumsum, cumprod, cummax, cummin, logcumsumexp) against the CPU
kernels on the same inputs, at every lane order of the emulated device.

Exact (bits, NaN payloads aside) for integer and bool scans and for max/min (the first
NaN, else the first extreme, wins: -0/+0 as the CPU).  Float sums, products and
logcumsumexp associate as a tree on the GPU and left to right on the CPU; bounds:
- cumsum: |gpu - cpu| <= 2 n eps32 * cumsum(|x|) (each is within (n-1) eps32 sum|x| of
  the exact prefix, the recursive-summation bound) plus one rounding of the output dtype;
- cumprod: 2 n eps32 |cpu| (each multiplication rounds once, relatively) plus one rounding;
- logcumsumexp: 8 n eps32 (1 + |cpu|) (each log-add-exp step errs a few eps32, relative
  to its result) plus one rounding of the output dtype.
Rows of 100 (one simdgroup, one partial chunk) and 2500 (8 simdgroups, three chunks with
a carry between them) reach every code path.
"""
import numpy as np
import pytest

import mlxc.core as mx
from conftest import METAL_REAL
from test_metal_kernels import FLOATS, GPU_DTYPES, INTS, as_np, dt, lanes  # noqa: F401


@pytest.fixture
def shuffled(gpu):
    """The GPU with the emulator's shuffled lane order only: the dtype sweeps run once
    (barrier bugs do not depend on the dtype; the `lanes` tests cover every order)."""
    if METAL_REAL:
        yield
        return
    from mlxc._core.metal import executor_emu
    executor_emu.set_lane_order("shuffle", 11)
    yield
    executor_emu.set_lane_order("forward", 0)

OPS = {"cumsum": mx.cumsum, "cumprod": mx.cumprod, "cummax": mx.cummax,
       "cummin": mx.cummin, "logcumsumexp": mx.logcumsumexp}
EPS32 = 2.0 ** -23
EPS_OUT = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23}
MODES = [(False, True), (True, True), (False, False), (True, False)]   # (reverse, inclusive)


def scan_input(name, shape, op, seed):
    rng = np.random.default_rng(seed)
    if name == "bool_":
        return mx.array(rng.integers(0, 4, shape) == 0)   # mostly False: or/and both change
    if name in INTS:
        lo = 0 if name.startswith("u") else -9
        v = rng.integers(lo, 10, shape)
        if op == "cumprod":
            v = rng.integers(0 if lo == 0 else -3, 4, shape)
            v[v == 0] = 1
        return mx.array(v).astype(dt(name))
    if op == "cumprod":
        v = rng.uniform(0.9, 1.1, shape)
    else:
        v = rng.standard_normal(shape) * 4
        v.flat[::11] = np.round(v.flat[::11])            # repeated values, ties for max/min
        v.flat[5::37] = 0.0
        v.flat[9::37] = -0.0
        if op in ("cummax", "cummin"):
            v.flat[300::701] = np.nan                     # NaN sticks from there on
    return mx.array(v.astype(np.float32)).astype(dt(name))


def check(name, op, g, c, x, axis, reverse):
    assert g.dtype == c.dtype and g.shape == c.shape
    a, b = as_np(g), as_np(c)
    if name not in FLOATS or op in ("cummax", "cummin"):
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))      # -0 / +0 as the CPU
        return
    a, b = a.astype(np.float64), b.astype(np.float64)
    n = x.shape[axis]
    if op == "cumsum":
        ax = np.abs(as_np(x).astype(np.float64))
        ax = np.flip(ax, axis) if reverse else ax
        s = np.cumsum(ax, axis)
        s = np.flip(s, axis) if reverse else s
        tol = 2 * n * EPS32 * s
    elif op == "cumprod":
        tol = 2 * n * EPS32 * np.abs(b)
    else:
        tol = 8 * n * EPS32 * (1 + np.abs(b))
    tol = tol + 2 * EPS_OUT[name] * np.abs(b)
    with np.errstate(invalid="ignore"):
        bad = ~((a == b) | (np.abs(a - b) <= tol))
    assert not np.any(bad), (op, a[bad][:5], b[bad][:5])


def scan_both(f, x, **kw):
    with mx.stream(mx.gpu):
        g = f(x, **kw)
    c = f(x, **kw)
    mx.eval(g, c)
    return g, c


def scan_sweep(name, lengths):
    ops = list(OPS) if name in FLOATS else ["cumsum", "cumprod", "cummax", "cummin"]
    for i, op in enumerate(ops):
        for n in lengths:
            x = scan_input(name, (2, n), op, seed=i)
            mx.eval(x)
            for reverse, inclusive in MODES:
                g, c = scan_both(OPS[op], x, axis=1, reverse=reverse, inclusive=inclusive)
                check(name, op, g, c, x, 1, reverse)


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_scan_every_op_dtype_mode(shuffled, name):
    scan_sweep(name, (100, 2500) if name in ("int32", "float16") else (100,))


@pytest.mark.parametrize("name", ["int64", "float32"])
def test_scan_lane_orders_multi_chunk(lanes, name):
    scan_sweep(name, (2500,))          # 8 simdgroups, three chunks with carries


def test_scan_strided_axes_and_edges(lanes):
    rng = np.random.default_rng(3)
    base = mx.array(rng.integers(-50, 50, (6, 40, 5)).astype(np.int32))
    cases = [
        (base, 1), (base, 0), (base, 2),                        # the scanned axis anywhere
        (mx.transpose(base, (2, 0, 1)), 2),                     # transposed input
        (base[::2, 3:37:3, ::-1], 1),                           # slices, negative stride
        (mx.broadcast_to(base[:1, :, 2:3], (4, 40, 3)), 1),     # stride-0 dims
        (mx.array(np.zeros((3, 0), np.int32)), 1),              # empty rows
        (mx.array(np.zeros((0, 3), np.int32)), 1),
        (mx.array(np.array([7], np.int32)), 0),                 # one element
    ]
    for x, ax in cases:
        for f in (mx.cumsum, mx.cummax, mx.cumprod):
            for reverse, inclusive in MODES:
                g, c = scan_both(f, x, axis=ax, reverse=reverse, inclusive=inclusive)
                np.testing.assert_array_equal(np.array(g), np.array(c))
                # the GPU's result reads back through its strides like any array
                np.testing.assert_array_equal(np.array(g + 0), np.array(c))


def test_scan_float_specials(lanes):
    v = np.array([1.0, np.inf, -np.inf, 2.0, np.nan, 3.0, -0.0, 0.0] * 5, np.float32)
    x = mx.array(v)
    for f in OPS.values():
        for reverse, inclusive in MODES:
            g, c = scan_both(f, x, reverse=reverse, inclusive=inclusive)
            a, b = np.array(g), np.array(c)
            assert np.array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_allclose(a, b, rtol=1e-5)
    # logcumsumexp of equal infinities and of large magnitudes (no overflow)
    big = mx.array(np.array([-np.inf, -np.inf, 80.0, 80.0, 1e30, np.inf, np.inf], np.float32))
    g, c = scan_both(mx.logcumsumexp, big)
    np.testing.assert_allclose(np.array(g), np.array(c), rtol=1e-6)


def test_scan_bad_input_same_error(gpu):
    x = mx.array(np.arange(4, dtype=np.float32))
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises((ValueError, IndexError), match=r"(?i)axis"):
            mx.eval(mx.cumsum(x, axis=3, stream=stream))
    d = mx.array(np.arange(3), dtype=mx.float64)
    with pytest.raises(TypeError, match=r"\[CumSum\] float64 is not supported on the GPU"):
        mx.eval(mx.cumsum(d, stream=mx.gpu))
