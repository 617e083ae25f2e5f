"""cumsum / cumprod / cummax / cummin (axis, reverse, inclusive), sort,
argsort, astype."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import assert_close, dt, rand, to_np

N = np.array([[1, 3, 2, -1], [4, 0, 5, 2], [2, 2, -3, 7]], dtype=np.int32)


def _scan(fn, x, axis, reverse, inclusive, init):
    """numpy oracle for MLX's scans."""
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if reverse:
        x = np.flip(x, axis)
    r = fn(x, axis=axis)
    if not inclusive:
        r = np.roll(r, 1, axis=axis)
        idx = [slice(None)] * r.ndim
        idx[axis] = 0
        r[tuple(idx)] = init
    if reverse:
        r = np.flip(r, axis)
    return r


SCANS = {
    "cumsum": (mx.cumsum, np.cumsum, 0),
    "cumprod": (mx.cumprod, np.cumprod, 1),
    "cummax": (mx.cummax, np.maximum.accumulate, np.iinfo(np.int32).min),
    "cummin": (mx.cummin, np.minimum.accumulate, np.iinfo(np.int32).max),
}


@pytest.mark.parametrize("op", list(SCANS))
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("inclusive", [True, False])
def test_int_scans(op, axis, reverse, inclusive):
    f, g, init = SCANS[op]
    r = f(mx.array(N), axis=axis, reverse=reverse, inclusive=inclusive)
    want = _scan(g, N.astype(np.int64), axis, reverse, inclusive, init)
    assert_close(r, want, dtype="int32")


@pytest.mark.parametrize("op", list(SCANS))
@pytest.mark.parametrize("name", ["float32", "float16"])
def test_float_scans(op, name):
    f, g, _ = SCANS[op]
    a, na = rand((3, 6), name, 0.5, 1.5, seed=71)
    assert_close(f(a, axis=1), g(na, axis=1), dtype=name, rtol=4e-3 if name == "float16" else 1e-5)
    assert_close(f(a, 0, reverse=True), np.flip(g(np.flip(na, 0), axis=0), 0),
                 dtype=name, rtol=4e-3 if name == "float16" else 1e-5)


def test_scan_dtypes():
    assert mx.cumsum(mx.array([1, 2], mx.int8)).dtype == mx.int8
    assert mx.cumsum(mx.array([1, 2], mx.uint8)).dtype == mx.uint8
    assert_close(mx.cumsum(mx.array([True, True])), [1, 2], dtype="int32")
    assert mx.cumprod(mx.array([100, 100], mx.int8)).tolist() == [100, 16]  # wraps
    assert_close(mx.cumsum(mx.array(N), axis=0, dtype=mx.float32),
                 np.cumsum(N, axis=0), dtype="float32")
    assert_close(mx.cumprod(mx.array(N), axis=1, dtype=mx.int64),
                 np.cumprod(N, axis=1), dtype="int64")
    assert mx.cumsum(mx.array(5)).tolist() == [5]


def test_scan_method_forms():
    a = mx.array(N)
    assert_close(a.cumsum(1), np.cumsum(N, 1))
    assert_close(a.cumsum(axis=0, reverse=True), np.flip(np.cumsum(np.flip(N, 0), 0), 0))
    assert_close(a.cumprod(0), np.cumprod(N, 0))
    assert_close(a.cummax(1), np.maximum.accumulate(N, 1))
    assert_close(a.cummin(axis=1), np.minimum.accumulate(N, 1))


def test_scan_nan_propagates():
    assert np.isnan(mx.cummin(mx.array([1.0, np.nan, 0.0])).tolist()[1:]).all()
    assert np.isnan(mx.cummax(mx.array([1.0, np.nan, 3.0])).tolist()[1:]).all()


def test_scan_bad_axis():
    with pytest.raises(IndexError):
        mx.cumsum(mx.array(N), axis=2)


@pytest.mark.parametrize("axis", [-1, 0, 1, None])
@pytest.mark.parametrize("name", ["int32", "float32", "uint8", "float16", "int64"])
def test_sort(axis, name):
    a, na = rand((4, 7), name, 0 if name.startswith("u") else -9, 9, seed=72)
    assert_close(mx.sort(a, axis=axis), np.sort(na, axis=axis), dtype=name)
    if axis is not None:
        assert_close(mx.sort(a, axis), np.sort(na, axis=axis))


def test_sort_default_axis_and_specials():
    assert_close(mx.sort(mx.array(N)), np.sort(N, axis=-1))
    r = mx.sort(mx.array([3.0, np.nan, 1.0, -np.inf])).tolist()
    assert r[:3] == [-np.inf, 1.0, 3.0] and np.isnan(r[3])
    assert mx.sort(mx.array([True, False])).tolist() == [False, True]
    assert mx.sort(mx.array([2 + 1j, 1 + 3j, 1 + 2j])).tolist() == [1 + 2j, 1 + 3j, 2 + 1j]
    with pytest.raises(IndexError):
        mx.sort(mx.array(3))
    with pytest.raises(IndexError):
        mx.sort(mx.array([1, 2]), axis=1)


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_argsort(axis):
    a, na = rand((5, 6), "float32", seed=73)   # distinct values
    r = mx.argsort(a, axis=axis)
    assert r.dtype == mx.uint32
    np.testing.assert_array_equal(to_np(r), np.argsort(na, axis=axis))


def test_argsort_is_stable():
    r = mx.argsort(mx.array([2, 1, 2, 1, 2, 1]))
    assert r.tolist() == [1, 3, 5, 0, 2, 4]
    assert mx.argsort(mx.array([-0.0, 0.0])).tolist() == [0, 1]
    n = np.array([3, 1, 3, 1, 2] * 20)
    np.testing.assert_array_equal(to_np(mx.argsort(mx.array(n))), np.argsort(n, kind="stable"))


def test_take_along_axis_with_argsort():
    a, na = rand((4, 5), seed=74)
    idx = mx.argsort(a, axis=1)
    assert_close(mx.take_along_axis(a, idx, axis=1), np.sort(na, axis=1))


@pytest.mark.parametrize("src", ["float32", "int32", "float16", "bool_"])
@pytest.mark.parametrize("dst", ["int8", "uint16", "float32", "bfloat16", "bool_", "int64"])
def test_astype_function(src, dst):
    a, na = rand((3, 3), src, -5, 5, seed=75)
    r = mx.astype(a, dt(dst))
    assert r.dtype == dt(dst)
    want = na.astype(np.float64)
    if dst == "bool_":
        want = want != 0
    elif dst in ("int8", "int64"):
        want = np.trunc(want)
    elif dst == "uint16":
        want = np.trunc(want).astype(np.int64).astype(np.uint16)
    elif dst == "bfloat16":
        assert_close(r, want, rtol=1e-2, atol=1e-2)
        return
    np.testing.assert_array_equal(to_np(r).astype(np.float64), np.asarray(want, np.float64))
