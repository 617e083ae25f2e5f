"""Indexing: __getitem__, __setitem__ and array.at[] against numpy."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import to_np

N = np.arange(24).reshape(2, 3, 4)


def _mx_index(idx):
    """numpy-style index -> same index with integer ndarrays as mx.arrays."""
    if isinstance(idx, tuple):
        return tuple(_mx_index(i) for i in idx)
    if isinstance(idx, np.ndarray):
        return mx.array(idx)
    return idx


GET_CASES = [
    0, -1, 1, (0, 1), (-1, -2, -3), (1, 2, 3),
    slice(None, None, -1), (slice(None), slice(None, None, -2)),
    (0, slice(3, 0, -1)), (slice(None), slice(None), slice(-1, 0, -2)),
    (slice(5, 10),), (slice(-10, 10),), (slice(1, 1),),
    (Ellipsis, 1), (None, 0), (0, None, slice(1, 3)), (Ellipsis, None),
    (Ellipsis,), (), (None, Ellipsis, None), (1, Ellipsis, 2),
    np.array([1, 0]), np.array([-1, -2]), [1, 0], (slice(None), [-1, -3]),
    (slice(None), [0, 2]), (slice(None), [0, 2], [1, 3]),
    ([0, 1], slice(None), [1, 3]),           # separated by a slice -> front
    ([[0], [1]], slice(None), [1, 3]),       # broadcast (2,1) with (2,)
    (0, slice(None), [1, 3]),                # int counts as advanced
    ([1], [0, 2], slice(None)),
    (np.array([[0, 1], [1, 0]]),),
    (Ellipsis, [0, 1]), (None, [0, 1], None),
    (slice(1, None), None, [0, 2]),
    (np.array(1),), (np.array(1), np.array(2)),
    (np.array([0, 1]), slice(None), np.array([[0], [1]])),
    (slice(None), np.array([0, 1]), 0),
    (0, np.array([0, 1]), slice(None)),
    (np.array([0, 1]), 0),
    (0, 1, np.array([0, 3])),
    (slice(None), None, np.array([0, 2]), None),
    (np.array([0, 1]), None, np.array([1, 2])),
    (0, slice(None), np.array(-1)),
    (np.array([[0, 1]]), np.array([[0], [2]]), slice(None, None, -1)),
    ([0, 1], [1, 2], [2, 3]), (0, [1, 2], [2, 3]), ([0, 1], 1, [2, 3]),
    ([0, 1], slice(None), 1), (1, slice(None), [0, 1]),
]


@pytest.mark.parametrize("idx", GET_CASES, ids=[repr(c) for c in GET_CASES])
def test_getitem_matches_numpy(idx):
    a = mx.array(N)
    r = a[_mx_index(idx)]
    want = N[idx]
    assert isinstance(r, mx.array)
    assert r.shape == want.shape
    np.testing.assert_array_equal(to_np(r), want)


def test_getitem_numpy_integer_scalar_and_uint_index():
    a = mx.array(N)
    assert a[np.int64(1)].tolist() == N[1].tolist()
    assert a[mx.array([0, 1], mx.uint8)].tolist() == N[[0, 1]].tolist()
    assert a[mx.array([1], mx.int64)].tolist() == N[[1]].tolist()


def test_getitem_scalar_result_is_array():
    a = mx.array([1.5, 2.5])
    r = a[1]
    assert isinstance(r, mx.array) and r.shape == () and r.item() == 2.5


def test_slice_of_1d():
    n = np.arange(10)
    a = mx.array(n)
    for s in [slice(2, 8, 3), slice(None, None, -3), slice(8, 2, -2),
              slice(-3, None), slice(None, -20), slice(100, None, -1)]:
        np.testing.assert_array_equal(to_np(a[s]), n[s])


def test_getitem_is_a_snapshot():
    a = mx.array([1.0, 2.0, 3.0])
    s = a[0:2]
    a[0] = 5
    assert s.tolist() == [1.0, 2.0]
    assert a.tolist() == [5.0, 2.0, 3.0]


@pytest.mark.parametrize("idx,exc", [
    ((0, 0, 0, 0), ValueError),
    ((Ellipsis, Ellipsis), ValueError),
    (1.5, ValueError),
    ("a", ValueError),
    (mx.array([0.0, 1.0]), ValueError),
    # (boolean masks read like numpy: tests/test_masked_scatter.py)
])
def test_getitem_errors(idx, exc):
    with pytest.raises(exc):
        mx.eval(mx.array(N)[idx])


@pytest.mark.mlxc_only
@pytest.mark.parametrize("idx", [3, 10, -4, 100])
def test_integer_index_out_of_range_raises_indexerror(idx):
    # MLX reads stray memory (or crashes) here; mlxc bounds-checks
    a = mx.array([1, 2, 3])
    with pytest.raises(IndexError):
        mx.eval(a[idx])


@pytest.mark.mlxc_only
def test_integer_index_out_of_range_inner_axis():
    a = mx.array(N)
    with pytest.raises(IndexError):
        mx.eval(a[0, 3])
    with pytest.raises(IndexError):
        mx.eval(a[2])


@pytest.mark.mlxc_only
def test_zero_slice_step_raises():
    with pytest.raises(ValueError):
        mx.eval(mx.array([1, 2, 3])[::0])


@pytest.mark.mlxc_only
def test_array_index_out_of_range_raises():
    a = mx.array([1, 2, 3])
    with pytest.raises((IndexError, ValueError)):
        mx.eval(a[mx.array([10])])


# ------------------------------------------------------------ setitem --
SET_CASES = [
    (0, 5.0),
    (0, np.array([1.0, 2, 3, 4])),
    (-1, np.arange(12.0).reshape(3, 4)),
    ((slice(None), 1), 7.0),
    ((Ellipsis, 0), np.array([1.0, 2, 3])),
    ((slice(None, None, -1),), N[::-1].astype(np.float32) * 2),
    (np.array([1, 0]), np.zeros((2, 3, 4))),
    ((slice(None), [0, 2]), -1.0),
    ((0, [0, 1], [1, 2]), np.array([100.0, 200])),
    (([0, 0], 1), np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])),
    ((None, 0), 3.0),
    ((slice(None), slice(None), slice(None, None, 2)), np.array([1.0, 2])),
    ((0, 1, 2), 7.5),
    ((slice(None), [0, 2]), np.array([1.0, 2, 3, 4])),
    ((Ellipsis, [0, 1]), np.array([[5.0], [6], [7]])),
    ([1, 0], np.zeros((1, 3, 4))),
    (([0, 1], slice(None), [1, 3]), np.array([1.0, 2, 3])),
    ((1, slice(0, 3, 2), slice(None, None, -1)), np.array([9.0, 8, 7, 6])),
    ((slice(None), np.array([[0], [2]]), np.array([1, 3])), -5.0),
]


@pytest.mark.parametrize("idx,val", SET_CASES, ids=[str(i) for i in range(len(SET_CASES))])
def test_setitem_matches_numpy(idx, val):
    n = N.astype(np.float32).copy()
    a = mx.array(n)
    n[idx] = val
    v = mx.array(val.astype(np.float32)) if isinstance(val, np.ndarray) else val
    a[_mx_index(idx)] = v
    assert a.dtype == mx.float32
    np.testing.assert_array_equal(to_np(a), n)


def test_setitem_keeps_dtype():
    a = mx.array([1, 2, 3])
    a[0] = 2.7
    assert a.dtype == mx.int32 and a.tolist() == [2, 2, 3]
    b = mx.array([1.0, 2.0, 3.0])
    b[0] = mx.array(5, mx.int32)
    assert b.dtype == mx.float32 and b.tolist() == [5.0, 2.0, 3.0]
    c = mx.array([1, 2], mx.uint8)
    c[1] = 255
    assert c.tolist() == [1, 255]


def test_setitem_visible_through_aliases():
    a = mx.array([1.0, 2.0])
    b = a
    a[0] = 5
    assert b.tolist() == [5.0, 2.0]


def test_setitem_errors():
    a = mx.zeros((2, 3, 4))
    with pytest.raises(ValueError):
        a[1] = mx.array([1, 2, 3])          # (3,) into (3, 4)
    with pytest.raises(ValueError):
        a[0, 1, 2] = mx.array([1, 2])
    with pytest.raises(ValueError):
        mx.zeros((2, 3))[0] = mx.ones((4,))
    with pytest.raises(ValueError):
        mx.array([1, 2, 3])[0] = 2 ** 40    # overflow of the int32 target


# ----------------------------------------------------------------- at[] --
AT_OPS = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "divide": np.divide, "maximum": np.maximum, "minimum": np.minimum,
}


@pytest.mark.parametrize("op", list(AT_OPS))
def test_at_repeated_indices_accumulate(op):
    base = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    idx = np.array([0, 1, 1, 3, 3, 3])
    vals = np.array([9.0, 1.0, 7.0, -1.0, 8.0, 2.0])
    want = base.copy()
    AT_OPS[op].at(want, idx, vals)
    a = mx.array(base.astype(np.float32))
    r = getattr(a.at[mx.array(idx)], op)(mx.array(vals.astype(np.float32)))
    np.testing.assert_allclose(to_np(r), want, rtol=1e-6)
    assert a.tolist() == base.tolist()   # at[] does not modify the source


@pytest.mark.parametrize("op", list(AT_OPS))
def test_at_scalar_value(op):
    base = np.array([1.0, 2.0, 3.0, 4.0])
    idx = np.array([2, 2, 0])
    want = base.copy()
    AT_OPS[op].at(want, idx, 2.0)
    r = getattr(mx.array(base.astype(np.float32)).at[mx.array(idx)], op)(2.0)
    np.testing.assert_allclose(to_np(r), want, rtol=1e-6)


def test_at_multidim_and_slices():
    n = np.zeros((3, 4))
    np.add.at(n, (slice(1, None), [0, 0, 2]), np.array([1.0, 2, 3]))
    r = mx.zeros((3, 4)).at[1:, [0, 0, 2]].add(mx.array([1.0, 2, 3]))
    np.testing.assert_array_equal(to_np(r), n)
    n = np.zeros((3, 4))
    np.add.at(n, (np.array([0, 0]), np.array([1, 1])), 1.0)
    r = mx.zeros((3, 4)).at[mx.array([0, 0]), mx.array([1, 1])].add(1)
    np.testing.assert_array_equal(to_np(r), n)
    r = mx.zeros((3, 4)).at[0].add(1)
    assert r.tolist()[0] == [1, 1, 1, 1] and r.tolist()[1] == [0, 0, 0, 0]


def test_at_integer_dtype_kept():
    r = mx.zeros(3, mx.int32).at[mx.array([0, 0, 2])].add(1)
    assert r.dtype == mx.int32 and r.tolist() == [2, 0, 1]
