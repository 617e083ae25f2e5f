"""mx.partition / mx.argpartition: the partition property against numpy's sort
(the element at kth is the kth smallest, everything before it is <= and
everything after it >=), argpartition's indices against the values, every axis
form, and the errors MLX 0.32.4 raises."""
import numpy as np
import pytest

import mlxc.core as mx


def check_partitioned(got, x, kth, axis):
    """got (numpy) is a partition of x along axis around kth."""
    x = np.moveaxis(x, axis, -1)
    got = np.moveaxis(got, axis, -1)
    n = x.shape[-1]
    k = kth % n
    np.testing.assert_array_equal(np.sort(got, axis=-1), np.sort(x, axis=-1))  # a permutation
    np.testing.assert_array_equal(got[..., k], np.sort(x, axis=-1)[..., k])
    assert np.all(got[..., :k] <= got[..., k:k + 1])
    assert np.all(got[..., k + 1:] >= got[..., k:k + 1])


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64", "uint8"])
@pytest.mark.parametrize("shape,axis", [((17,), 0), ((5, 40), 1), ((40, 5), 0), ((3, 4, 33), -1),
                                        ((3, 33, 4), 1), ((1000,), -1)])
@pytest.mark.parametrize("kth", [0, 3, -1, -4])
def test_partition_and_argpartition(dtype, shape, axis, kth):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 50, size=shape).astype(dtype)  # with ties
    a = mx.array(x, dtype=getattr(mx, dtype))  # (numpy float64 alone would become float32)
    got = np.array(mx.partition(a, kth, axis=axis))
    assert got.dtype == x.dtype and got.shape == x.shape
    check_partitioned(got, x, kth, axis)
    idx = np.array(mx.argpartition(a, kth, axis=axis))
    assert idx.dtype == np.uint32
    # the indices select a partition, and each index appears once per row
    vals = np.take_along_axis(x, idx.astype(np.int64), axis=axis)
    check_partitioned(vals, x, kth, axis)
    np.testing.assert_array_equal(np.sort(idx, axis=axis),
                                  np.broadcast_to(np.expand_dims(np.arange(x.shape[axis]),
                                                                 tuple(i for i in range(x.ndim) if i != axis % x.ndim)),
                                                  x.shape))


def test_partition_axis_none_flattens():
    x = np.array([[3, 1, 7], [2, 0, 5]], np.int32)
    got = np.array(mx.partition(mx.array(x), 2, axis=None))
    assert got.shape == (6,)
    check_partitioned(got, x.ravel(), 2, 0)
    idx = np.array(mx.argpartition(mx.array(x), 2, axis=None))
    check_partitioned(x.ravel()[idx.astype(np.int64)], x.ravel(), 2, 0)


def test_partition_nan_last():
    x = np.array([3.0, np.nan, 1.0, 2.0, np.nan, 0.5], np.float32)
    got = np.array(mx.partition(mx.array(x), 3))
    np.testing.assert_array_equal(got[:4][np.argsort(got[:4])], [0.5, 1.0, 2.0, 3.0])
    assert np.isnan(got[4:]).all()


def test_partition_errors():
    a = mx.array([3, 1, 2])
    for k in (3, 5, -4):
        with pytest.raises(ValueError, match=r"partition.*kth"):
            mx.partition(a, k)
        with pytest.raises(ValueError, match=r"partition.*kth"):
            mx.argpartition(a, k)
    with pytest.raises(IndexError, match=r"partition.*[Aa]xis 2"):
        mx.partition(a, 1, axis=2)
