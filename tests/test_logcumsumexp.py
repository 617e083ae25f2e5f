"""logcumsumexp (the kernel scan MLXC_LOGCUMSUMEXP) against numpy's
np.logaddexp.accumulate in float64: axes, reverse, exclusive, dtypes, strided
inputs, special values, bad input."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import assert_close, rand


def _oracle(x, axis, reverse, inclusive):
    """float64 logcumsumexp with MLX's reverse / exclusive conventions."""
    x = np.asarray(x, np.float64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if reverse:
        x = np.flip(x, axis)
    r = np.logaddexp.accumulate(x, axis=axis)
    if not inclusive:
        r = np.roll(r, 1, axis=axis)
        idx = [slice(None)] * r.ndim
        idx[axis] = 0
        r[tuple(idx)] = -np.inf
    return np.flip(r, axis) if reverse else r


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("inclusive", [True, False])
def test_logcumsumexp_float32(axis, reverse, inclusive):
    a, na = rand((5, 37), "float32", -20.0, 20.0, seed=11)
    r = mx.logcumsumexp(a, axis=axis, reverse=reverse, inclusive=inclusive)
    assert r.dtype == mx.float32
    assert_close(r, _oracle(na, axis, reverse, inclusive), dtype="float32", rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, rtol", [("float64", 1e-12), ("float16", 2e-3), ("bfloat16", 1.6e-2)])
def test_logcumsumexp_dtypes(name, rtol):
    a, na = rand((3, 50), name, -5.0, 5.0, seed=12)
    r = mx.logcumsumexp(a, axis=1, reverse=True)
    assert r.dtype == a.dtype
    assert_close(r, _oracle(na, 1, True, True), dtype=name, rtol=rtol, atol=rtol)


def test_logcumsumexp_strided_and_long_rows():
    # a transposed view (the scanned axis strided) and rows long enough to be split
    # over the thread pool
    x = np.random.default_rng(13).standard_normal((3000, 70)).astype(np.float32)
    a = mx.transpose(mx.array(x))
    assert_close(mx.logcumsumexp(a, axis=1), _oracle(x.T, 1, False, True),
                 dtype="float32", rtol=2e-5, atol=2e-5)
    assert_close(mx.logcumsumexp(a, axis=0, inclusive=False), _oracle(x.T, 0, False, False),
                 dtype="float32", rtol=2e-5, atol=2e-5)


def test_logcumsumexp_large_magnitudes_and_specials():
    x = np.array([1000.0, 1000.0, -1000.0, -np.inf, 3.0], np.float32)
    r = np.array(mx.logcumsumexp(mx.array(x)))
    assert r[0] == 1000.0                                            # no overflow
    assert np.allclose(r[1:], 1000.0 + np.log(2.0), rtol=0, atol=1e-3)
    r = np.array(mx.logcumsumexp(mx.array([-np.inf, -np.inf, 0.0], mx.float32)))
    assert r[0] == -np.inf and r[1] == -np.inf and r[2] == 0.0
    r = np.array(mx.logcumsumexp(mx.array([0.0, np.inf, 1.0], mx.float32)))
    assert r[1] == np.inf and r[2] == np.inf
    r = np.array(mx.logcumsumexp(mx.array([0.0, np.nan, 1.0], mx.float32)))
    assert r[0] == 0.0 and np.isnan(r[1]) and np.isnan(r[2])


def test_logcumsumexp_int_input_and_bad_axis():
    # integers are promoted to float32, as in MLX
    r = mx.logcumsumexp(mx.array([0, 0, 0], mx.int32))
    assert r.dtype == mx.float32
    assert_close(r, np.log([1.0, 2.0, 3.0]), dtype="float32", rtol=1e-6)
    with pytest.raises(IndexError, match="logcumsumexp"):
        mx.logcumsumexp(mx.zeros((2, 3)), axis=2)
