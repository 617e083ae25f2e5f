"""Reductions: sum, mean, prod, max, min, all, any, var, std, logsumexp,
argmax, argmin, count_nonzero — axes, keepdims, dtypes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mlxc.core as mx
from helpers import assert_close, dt, rand, to_np


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return r


REDUCE = {
    "sum": (mx.sum, np.sum),
    "mean": (mx.mean, np.mean),
    "prod": (mx.prod, np.prod),
    "max": (mx.max, np.max),
    "min": (mx.min, np.min),
    "var": (mx.var, np.var),
    "std": (mx.std, np.std),
    "logsumexp": (mx.logsumexp, _np_logsumexp),
}
AXES = [None, 0, 1, 2, -1, -2, (0, 2), (1, 2), (0, 1, 2), (-1, 0), [2, 0], ()]


@pytest.mark.parametrize("op", list(REDUCE))
@pytest.mark.parametrize("axis", AXES, ids=[repr(a) for a in AXES])
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions(op, axis, keepdims):
    f, ref = REDUCE[op]
    a, na = rand((2, 3, 4), "float32", 0.5, 1.5, seed=41)
    npaxis = tuple(axis) if isinstance(axis, list) else axis
    r = f(a, axis=axis, keepdims=keepdims)
    assert_close(r, ref(na, axis=npaxis, keepdims=keepdims), dtype="float32",
                 rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", list(REDUCE))
def test_positional_axis(op):
    f, ref = REDUCE[op]
    a, na = rand((3, 4), "float32", 0.5, 1.5, seed=42)
    assert_close(f(a, 1), ref(na, axis=1), rtol=1e-5, atol=1e-6)
    assert_close(f(a, 0, True), ref(na, axis=0, keepdims=True), rtol=1e-5, atol=1e-6)
    assert_close(getattr(a, op)(axis=1), ref(na, axis=1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var"])
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_half_reductions_keep_dtype(op, name):
    f, ref = REDUCE[op]
    a, na = rand((4, 8), name, 0, 2, seed=43)
    if op in ("max", "min"):
        # exact ops: the result is one of the (exactly representable) inputs
        got = np.array(f(a, axis=1).astype(mx.float32))
        assert f(a, axis=1).dtype == dt(name)
        np.testing.assert_array_equal(got, ref(na, axis=1))
        return
    assert_close(f(a, axis=1), ref(na, axis=1), dtype=name,
                 rtol=3e-2 if name == "bfloat16" else 4e-3, atol=3e-2)


@pytest.mark.parametrize("name,sum_dtype", [
    ("bool_", "int32"), ("int8", "int32"), ("int16", "int32"), ("int32", "int32"),
    ("int64", "int64"), ("uint8", "uint32"), ("uint16", "uint32"),
    ("uint32", "uint32"), ("uint64", "uint64"), ("float16", "float16"),
    ("float32", "float32"), ("complex64", "complex64"),
])
def test_sum_prod_accumulation_dtype(name, sum_dtype):
    a = mx.array([1, 2, 3], dt(name)) if name != "bool_" else mx.array([True, True, False])
    s = mx.sum(a)
    p = mx.prod(a)
    assert s.dtype == dt(sum_dtype) and p.dtype == dt(sum_dtype)
    na = to_np(a).astype(np.complex128)
    assert complex(s.item()) == complex(na.sum())
    assert complex(p.item()) == complex(na.prod())


def test_small_int_sum_does_not_overflow():
    a = mx.full((300,), 100, mx.int8)
    assert mx.sum(a).item() == 30000
    assert mx.prod(mx.array([100, 100], mx.int8)).item() == 10000


def test_mean_dtypes():
    assert_close(mx.mean(mx.array([1, 2])), 1.5, dtype="float32")
    assert_close(mx.mean(mx.array([1, 2], mx.int64)), 1.5, dtype="float32")
    assert_close(mx.mean(mx.array([True, False])), 0.5, dtype="float32")
    assert_close(mx.mean(mx.array([1, 2], mx.float16)), 1.5, dtype="float16")
    assert_close(mx.mean(mx.array([1 + 1j, 3 + 1j])), 2 + 1j, dtype="complex64")


def test_max_min_keep_int_dtype():
    a = mx.array([[3, -1], [7, 2]], mx.int8)
    assert_close(mx.max(a), 7, dtype="int8")
    assert_close(mx.min(a, axis=0), [3, -1], dtype="int8")
    assert_close(mx.max(mx.array([True, False])), True, dtype="bool_")


def test_max_min_nan():
    assert np.isnan(mx.max(mx.array([np.nan, 1.0])).item())
    assert np.isnan(mx.min(mx.array([1.0, np.nan])).item())


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_all_any(axis, keepdims):
    n = np.array([[0, 1, 2], [3, 0, 0], [4, 5, 6]])
    a = mx.array(n)
    for f, g in [(mx.all, np.all), (mx.any, np.any)]:
        r = f(a, axis=axis, keepdims=keepdims)
        assert r.dtype == mx.bool_
        np.testing.assert_array_equal(to_np(r), g(n, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_var_std_ddof(ddof, axis):
    a, na = rand((4, 5), "float32", seed=44)
    assert_close(mx.var(a, axis=axis, ddof=ddof), np.var(na, axis=axis, ddof=ddof),
                 dtype="float32", rtol=1e-5, atol=1e-6)
    assert_close(mx.std(a, axis, ddof=ddof), np.std(na, axis=axis, ddof=ddof),
                 dtype="float32", rtol=1e-5, atol=1e-6)
    assert_close(a.var(axis=axis, ddof=ddof), np.var(na, axis=axis, ddof=ddof),
                 rtol=1e-5, atol=1e-6)


def test_var_edge_cases():
    assert_close(mx.var(mx.array([1, 2, 3, 4])), 1.25, dtype="float32")
    assert np.isnan(mx.var(mx.array([1.0]), ddof=1).item())
    assert np.isnan(mx.var(mx.array([1.0]), ddof=2).item())
    assert_close(mx.var(mx.array([1, 2, 3]), axis=0, keepdims=True), [2 / 3])


def test_logsumexp_stability():
    assert_close(mx.logsumexp(mx.array([1000.0, 1000.0])), 1000 + np.log(2))
    assert mx.logsumexp(mx.array([-np.inf, -np.inf])).item() == -np.inf
    assert_close(mx.logsumexp(mx.array([1, 2])), np.log(np.e + np.e ** 2), dtype="float32")


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(axis, keepdims):
    a, na = rand((3, 4, 5), "float32", seed=45)
    for f, g in [(mx.argmax, np.argmax), (mx.argmin, np.argmin)]:
        r = f(a, axis=axis, keepdims=keepdims)
        assert r.dtype == mx.uint32
        want = g(na, axis=axis, keepdims=keepdims)
        np.testing.assert_array_equal(to_np(r), want)


def test_argmax_ties_and_nan():
    assert mx.argmax(mx.array([1, 3, 3])).item() == 1
    assert mx.argmin(mx.array([1, 1, 3])).item() == 0
    assert mx.argmax(mx.array([1.0, np.nan, 3.0])).item() == 1
    assert mx.argmax(mx.array(5)).item() == 0
    with pytest.raises(TypeError):
        mx.argmax(mx.ones((2, 2)), axis=(0, 1))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_count_nonzero(axis, keepdims):
    n = np.arange(24).reshape(2, 3, 4) % 3
    r = mx.count_nonzero(mx.array(n), axis=axis, keepdims=keepdims)
    assert r.dtype == mx.int32
    np.testing.assert_array_equal(to_np(r), np.count_nonzero(n, axis=axis, keepdims=keepdims))
    assert mx.count_nonzero(mx.array([0.0, 1.0, np.nan])).item() == 2


def test_empty_reductions():
    e = mx.array([])
    assert mx.sum(e).item() == 0.0 and mx.prod(e).item() == 1.0
    assert np.isnan(mx.mean(e).item())
    assert mx.all(e).item() is True and mx.any(e).item() is False
    with pytest.raises(ValueError):
        mx.max(e)
    with pytest.raises(ValueError):
        mx.argmax(e)
    assert mx.sum(mx.zeros((0, 3)), axis=0).tolist() == [0.0, 0.0, 0.0]


def test_scalar_reduction():
    assert mx.sum(mx.array(5)).item() == 5
    with pytest.raises(IndexError):
        mx.sum(mx.array(5), axis=0)


@pytest.mark.parametrize("axis", [3, -4])
def test_bad_axis(axis):
    a = mx.ones((2, 3, 4))
    for f in (mx.sum, mx.mean, mx.max, mx.all, mx.var, mx.logsumexp, mx.argmax):
        with pytest.raises(IndexError):
            f(a, axis=axis)


def test_duplicate_axes():
    with pytest.raises(ValueError):
        mx.sum(mx.ones((2, 3)), axis=(0, 0))
    with pytest.raises(ValueError):
        mx.sum(mx.ones((2, 3)), axis=(0, -2))


def test_count_nonzero_positional_axis():
    # the documented signature says keyword-only, but MLX accepts it positionally
    a = mx.array([[0, 1], [2, 3]])
    assert mx.count_nonzero(a, 0).tolist() == [1, 2]
    assert mx.count_nonzero(a, axis=1, keepdims=True).tolist() == [[1], [2]]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data(),
       st.sampled_from(["sum", "max", "mean", "prod"]), st.booleans())
def test_reduce_property(shape, data, op, keepdims):
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-nd, nd - 1), unique_by=lambda v: v % nd,
                              max_size=nd))
    f, ref = REDUCE[op]
    a, na = rand(tuple(shape), "float32", 0.5, 1.5, seed=len(axes))
    r = f(a, axis=tuple(axes), keepdims=keepdims)
    assert_close(r, ref(na, axis=tuple(axes), keepdims=keepdims), rtol=1e-5, atol=1e-6)
