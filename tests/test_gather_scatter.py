"""take, take_along_axis, put_along_axis, slice, slice_update, diagonal,
diag, trace — against numpy."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import assert_close, to_np

N = np.arange(12, dtype=np.int32).reshape(3, 4)


def check(r, want):
    assert isinstance(r, mx.array)
    assert r.shape == np.shape(want)
    np.testing.assert_array_equal(to_np(r), want)


@pytest.mark.parametrize("idx,axis", [
    ([0, 5, 11], None), ([[0, 2]], 0), ([0, -1], 1), ([[1, 0], [2, 2]], 1),
    ([2, 2, 0], 0), ([-3], 0), ([3, 1], -1),
])
def test_take(idx, axis):
    check(mx.take(mx.array(N), mx.array(idx), axis=axis), np.take(N, idx, axis=axis))
    check(mx.take(mx.array(N), mx.array(idx), axis), np.take(N, idx, axis=axis))
    check(mx.take(mx.array(N), indices=mx.array(idx), axis=axis), np.take(N, idx, axis=axis))


def test_take_int_index_and_dtypes():
    check(mx.take(mx.array(N), 2), np.take(N, 2))
    check(mx.take(mx.array(N), 1, axis=1), np.take(N, 1, axis=1))
    check(mx.take(mx.array(N), mx.array([0, 1], mx.uint8), axis=0), N[[0, 1]])
    check(mx.take(mx.array(N), mx.array([0, 1], mx.int64), axis=0), N[[0, 1]])
    check(mx.take(mx.array(3), mx.array([0])), np.array([3]))
    f = mx.array(N.astype(np.float16))
    assert mx.take(f, mx.array([1]), axis=0).dtype == mx.float16


@pytest.mark.mlxc_only
def test_take_out_of_range_raises():
    a = mx.array([1, 2, 3])
    with pytest.raises((IndexError, ValueError)):
        mx.eval(mx.take(a, mx.array([5])))
    with pytest.raises((IndexError, ValueError)):
        mx.eval(mx.take(a, mx.array([-5])))
    with pytest.raises((IndexError, ValueError)):
        mx.eval(mx.take_along_axis(a, mx.array([7]), axis=0))


@pytest.mark.parametrize("idx,axis", [
    ([[0], [1], [2]], 1), ([[0, 1, 2, 0]], 0), ([[3, 2, 1, 0]] * 3, 1),
    ([[0, 1, 2, 0], [2, 2, 2, 2]], 0), ([[0]], -1),
])
def test_take_along_axis(idx, axis):
    idx = np.array(idx)
    want = np.take_along_axis(N, idx, axis=axis)
    check(mx.take_along_axis(mx.array(N), mx.array(idx), axis=axis), want)
    check(mx.take_along_axis(mx.array(N), mx.array(idx), axis), want)


def test_take_along_axis_none_and_default():
    check(mx.take_along_axis(mx.array(N), mx.array([0, 5]), axis=None), np.array([0, 5]))
    # default axis is -1
    check(mx.take_along_axis(mx.array(N), mx.array([[0]])), np.take_along_axis(N, np.array([[0]]), -1))
    with pytest.raises(ValueError):
        mx.take_along_axis(mx.array(N), mx.array([0, 1]), axis=1)


@pytest.mark.parametrize("idx,vals,axis", [
    ([[0], [1], [2]], [[-1], [-2], [-3]], 1),
    ([[0, 1, 2, 0]], [[-1, -2, -3, -4]], 0),
    ([[3], [0], [1]], [[100]], 1),
])
def test_put_along_axis(idx, vals, axis):
    n = N.copy()
    np.put_along_axis(n, np.array(idx), np.array(vals), axis=axis)
    r = mx.put_along_axis(mx.array(N), mx.array(idx), mx.array(vals), axis=axis)
    check(r, n)


def test_put_along_axis_misc():
    n = N.copy()
    np.put_along_axis(n, np.array([0, 5]), np.array([-1, -2]), axis=None)
    check(mx.put_along_axis(mx.array(N), mx.array([0, 5]), mx.array([-1, -2])), n)
    # values cast to the array dtype
    r = mx.put_along_axis(mx.array(N), mx.array([[0], [1], [2]]), mx.array([-1.5]), axis=1)
    assert r.dtype == mx.int32
    assert r.tolist()[0][0] == -1
    with pytest.raises(TypeError):
        mx.put_along_axis(mx.array(N), mx.array([[0]]), 0, axis=1)


def test_slice():
    a = mx.array(N)
    check(mx.slice(a, mx.array([1, 1]), [0, 1], [2, 2]), N[1:3, 1:3])
    check(mx.slice(a, mx.array([1]), [1], [3, 2]), N[:, 1:3])
    check(mx.slice(a, mx.array(1), (1,), (3, 2)), N[:, 1:3])
    check(mx.slice(a, start_indices=mx.array([2, 0]), axes=[1, 0], slice_size=[2, 2]), N[0:2, 2:4])
    with pytest.raises(ValueError):
        mx.slice(a, mx.array([1]), [1], [2])        # slice_size needs every axis
    with pytest.raises(ValueError):
        mx.slice(a, mx.array([1]), [1], [3, 5])


def test_slice_update():
    n = N.copy()
    n[1:2, 1:3] = [[100, 101]]
    check(mx.slice_update(mx.array(N), mx.array([[100, 101]]), mx.array([1, 1]), [0, 1]), n)
    # the update keeps its own shape; unlisted axes start at 0
    n = N.copy()
    n[0:1, 2:3] = 7
    check(mx.slice_update(mx.array(N), mx.array([[7]]), mx.array([2]), [1]), n)
    r = mx.slice_update(mx.array(N), update=mx.array([7.5]), start_indices=mx.array([2]), axes=[1])
    assert r.dtype == mx.int32 and r.tolist()[1][2] == 7


@pytest.mark.parametrize("offset,a1,a2", [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (1, 1, 0),
                                          (10, 0, 1), (-2, 1, 0)])
def test_diagonal_2d(offset, a1, a2):
    want = np.diagonal(N, offset, a1, a2)
    check(mx.diagonal(mx.array(N), offset, a1, a2), want)
    check(mx.diagonal(mx.array(N), offset=offset, axis1=a1, axis2=a2), want)


@pytest.mark.parametrize("offset,a1,a2", [(0, 1, 2), (0, 0, 2), (1, 2, 0), (-1, -1, -2)])
def test_diagonal_3d(offset, a1, a2):
    n = np.arange(24).reshape(2, 3, 4)
    check(mx.diagonal(mx.array(n), offset, a1, a2), np.diagonal(n, offset, a1, a2))


def test_diagonal_errors_and_method():
    with pytest.raises(ValueError):
        mx.diagonal(mx.array(N), 0, 0, 0)
    with pytest.raises(ValueError):
        mx.diagonal(mx.array([1, 2]))
    check(mx.array(N).diagonal(1), np.diagonal(N, 1))


@pytest.mark.parametrize("k", [0, 1, -1, 2, -3])
def test_diag(k):
    check(mx.diag(mx.array(N), k), np.diag(N, k))
    check(mx.diag(mx.array([1, 2, 3]), k=k), np.diag([1, 2, 3], k))


def test_diag_errors_and_method():
    with pytest.raises(ValueError):
        mx.diag(mx.zeros((2, 2, 2)))
    check(mx.array(N).diag(), np.diag(N))


@pytest.mark.parametrize("offset", [0, 1, -1, 3, -5])
def test_trace(offset):
    assert_close(mx.trace(mx.array(N), offset), np.trace(N, offset), dtype="int32")
    assert_close(mx.trace(mx.array(N), offset=offset, dtype=mx.float32),
                 np.trace(N, offset), dtype="float32")


def test_trace_3d_and_dtypes():
    n = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    assert_close(mx.trace(mx.array(n), 0, 1, 2), np.trace(n, 0, 1, 2))
    assert_close(mx.trace(mx.array(n), axis1=0, axis2=2), np.trace(n, 0, 0, 2))
    assert mx.trace(mx.array([[1, 2], [3, 4]], mx.int8)).dtype == mx.int32
    assert mx.trace(mx.array([[1, 2], [3, 4]], mx.float16)).dtype == mx.float16
    assert_close(mx.trace(mx.array([[True, False], [False, True]])), 2, dtype="int32")
    with pytest.raises(ValueError):
        mx.trace(mx.array([1, 2]))


@pytest.mark.mlxc_only
@pytest.mark.parametrize("inner", [1, 3])
def test_take_large_lazy_indices(inner):
    # Past the threading threshold, with indices computed lazily so the kernel
    # (not the eager op-time check) validates them: the values match numpy, and
    # the first bad index in order is the one reported.
    rng = np.random.default_rng(7)
    n, k = 1 << 12, 1 << 17
    src = rng.standard_normal((n, inner)).astype(np.float32)
    idx = rng.integers(-n, n, size=k)
    lazy = mx.array(idx) + 0
    got = mx.take(mx.array(src), lazy, axis=0)
    np.testing.assert_array_equal(to_np(got), src[idx])
    along = mx.take_along_axis(mx.array(src.T.copy()), (mx.array(idx) + 0)[None, :] % n, axis=1)
    np.testing.assert_array_equal(to_np(along), src.T[:, idx % n] if inner == 1 else
                                  np.take_along_axis(src.T, (idx % n)[None, :], axis=1))
    bad = idx.copy()
    bad[k - 10], bad[k // 2 + 3] = n + 5, -n - 9     # two bad ones, the later in order is larger
    with pytest.raises(IndexError, match=r"Index %d is out of bounds" % (-n - 9)):
        mx.eval(mx.take(mx.array(src), mx.array(bad) + 0, axis=0))
    with pytest.raises(IndexError, match=r"Index %d is out of bounds" % (-n - 9)):
        mx.eval(mx.take_along_axis(mx.array(src.T.copy()), (mx.array(bad) + 0)[None, :], axis=1))
