"""Array creation ops: zeros/ones/full(+_like), arange, linspace, eye,
identity, tri/tril/triu, meshgrid."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, assert_close, dt, promote_scalar, to_np


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_zeros_ones_dtypes(name):
    z = mx.zeros((2, 3), dt(name))
    o = mx.ones((2, 3), dtype=dt(name))
    assert z.dtype == o.dtype == dt(name)
    np.testing.assert_array_equal(to_np(z), np.zeros((2, 3)))
    np.testing.assert_array_equal(to_np(o), np.ones((2, 3)))


def test_zeros_ones_shapes_and_defaults():
    assert mx.zeros(3).dtype == mx.float32 and mx.zeros(3).shape == (3,)
    assert mx.ones([2, 1]).shape == (2, 1)
    assert mx.zeros(()).shape == () and mx.zeros(()).item() == 0.0
    assert mx.zeros((0, 4)).shape == (0, 4)
    assert mx.ones(shape=(2,)).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError):
        mx.zeros((-1,))


def test_full():
    assert_close(mx.full((2, 2), 7), np.full((2, 2), 7), dtype="int32")
    assert_close(mx.full((2,), 2.5), np.full(2, 2.5), dtype="float32")
    assert_close(mx.full((2,), True), np.full(2, True), dtype="bool_")
    assert_close(mx.full(3, 7, mx.float16), np.full(3, 7.0), dtype="float16")
    assert_close(mx.full((2, 2), mx.array([1, 2])), [[1, 2], [1, 2]], dtype="int32")
    assert_close(mx.full(shape=(2,), vals=3.0, dtype=mx.float32), [3.0, 3.0])
    with pytest.raises(ValueError):
        mx.full((2,), mx.array([1, 2, 3]))


@pytest.mark.parametrize("name", ["bool_", "int8", "uint8", "int32", "float16", "float32"])
@pytest.mark.parametrize("val", [2, 2.5, True])
def test_full_dtype_with_python_scalar_promotes(name, val):
    # MLX: the result dtype is dtype promoted with the (weak) scalar, so
    # full(shape, 1.5, int32) is float32
    r = mx.full((2,), val, dt(name))
    assert r.dtype == dt(promote_scalar(name, val))


def test_full_dtype_with_array_value():
    # MLX: with an array value the array's dtype wins
    assert mx.full((2,), mx.array(2, mx.int8), mx.float32).dtype == mx.int8
    assert mx.full((2,), mx.array(2.5, mx.float16), mx.int32).dtype == mx.float16


def test_like_functions():
    a = mx.array([[1, 2, 3]], mx.int8)
    assert_close(mx.zeros_like(a), np.zeros((1, 3)), dtype="int8")
    assert_close(mx.ones_like(a), np.ones((1, 3)), dtype="int8")
    assert_close(mx.ones_like(mx.array([1.5]), dtype=mx.int32), [1], dtype="int32")
    assert_close(mx.zeros_like(a, mx.float16), np.zeros((1, 3)), dtype="float16")
    # full_like keeps a's dtype (values are cast)
    assert_close(mx.full_like(mx.array([1, 2]), 2.7), [2, 2], dtype="int32")
    assert_close(mx.full_like(mx.array([1.0, 2]), 3, dtype=mx.int8), [3, 3], dtype="int8")
    assert_close(mx.full_like(mx.array([1, 2]), mx.array([5.5, 6.5])), [5, 6], dtype="int32")
    assert_close(mx.full_like(mx.zeros((2, 2)), vals=4.0), np.full((2, 2), 4.0))


# ---------------------------------------------------------------- arange --
@pytest.mark.parametrize("args,kwargs,dtype", [
    ((5,), {}, "int32"),
    ((1, 5), {}, "int32"),
    ((1, 5, 2), {}, "int32"),
    ((5.0,), {}, "float32"),
    ((0, 1, 0.25), {}, "float32"),
    ((5, 1, -1), {}, "int32"),
    ((1.5, 4), {}, "float32"),
    ((1, 5), {"dtype": "float16"}, "float16"),
    ((0, 10, 3), {"dtype": "float32"}, "float32"),
    ((5, 1), {}, "int32"),
    ((-3,), {}, "int32"),
    ((3,), {"step": 2}, "int32"),
    ((), {"start": 1, "stop": 4}, "int32"),
    ((), {"stop": 4}, "int32"),
    ((2 ** 40, 2 ** 40 + 3), {}, "int64"),
    ((-1.0, 1.0, 0.3), {}, "float32"),
])
def test_arange(args, kwargs, dtype):
    kw = dict(kwargs)
    if "dtype" in kw:
        kw["dtype"] = dt(kw["dtype"])
    r = mx.arange(*args, **kw)
    npkw = {k: v for k, v in kwargs.items() if k != "dtype"}
    want = np.arange(*args, **npkw, dtype=np.float64)
    assert_close(r, want, dtype=dtype, rtol=1e-6, atol=1e-6)


def test_arange_length_of_float_steps():
    assert mx.arange(0, 1, 0.1).shape == (10,)
    assert mx.arange(0.5, dtype=mx.int32).tolist() == [0]


def test_arange_errors():
    with pytest.raises(ValueError):
        mx.arange(0, 5, 0)
    with pytest.raises(TypeError):
        mx.arange(mx.array(3))


# -------------------------------------------------------------- linspace --
@pytest.mark.parametrize("args,kwargs", [
    ((0, 1, 5), {}), ((0, 1), {}), ((1, 0, 3), {}), ((0, 1, 1), {}),
    ((0, 1, 0), {}), ((-2.5, 7.5, 9), {}), ((0, 1, 5), {"endpoint": False}),
    ((0, 1), {"num": 3}),
])
def test_linspace(args, kwargs):
    r = mx.linspace(*args, **kwargs)
    assert_close(r, np.linspace(*args, **kwargs), dtype="float32", rtol=1e-6, atol=1e-6)


def test_linspace_dtype():
    assert_close(mx.linspace(0, 10, 3, dtype=mx.int32), [0, 5, 10], dtype="int32")
    assert_close(mx.linspace(0, 1, num=3, dtype=mx.float16), [0, 0.5, 1], dtype="float16")
    with pytest.raises(ValueError):
        mx.linspace(0, 1, -1)


# ------------------------------------------------------- eye / tri family --
@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 3, 1), (3, None, -1), (4, 2, -2),
                                   (0, None, 0), (3, 3, 5)])
def test_eye(n, m, k):
    assert_close(mx.eye(n, m, k), np.eye(n, m, k), dtype="float32")
    assert_close(mx.eye(n, m=m, k=k, dtype=mx.int32), np.eye(n, m, k), dtype="int32")


def test_eye_identity_misc():
    assert_close(mx.identity(3), np.identity(3), dtype="float32")
    assert_close(mx.identity(2, mx.bool_), np.identity(2).astype(bool), dtype="bool_")
    assert_close(mx.identity(2, dtype=mx.float16), np.identity(2), dtype="float16")
    with pytest.raises(ValueError):
        mx.eye(-1)


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 3, 1), (3, None, -1), (4, 5, 2)])
def test_tri(n, m, k):
    assert_close(mx.tri(n, m, k), np.tri(n, m, k), dtype="float32")
    assert_close(mx.tri(n, m, k=k, dtype=mx.int32), np.tri(n, m, k), dtype="int32")


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_tril_triu(k):
    n = np.arange(1, 25, dtype=np.float64).reshape(2, 3, 4)
    a = mx.array(n.astype(np.float32))
    assert_close(mx.tril(a, k), np.tril(n, k), dtype="float32")
    assert_close(mx.triu(a, k=k), np.triu(n, k), dtype="float32")
    ai = mx.array(n.astype(np.int8))
    assert_close(mx.triu(ai, k), np.triu(n, k), dtype="int8")


def test_tril_requires_2d():
    with pytest.raises(ValueError):
        mx.tril(mx.ones(3))
    with pytest.raises(ValueError):
        mx.triu(mx.ones(3))


# -------------------------------------------------------------- meshgrid --
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    x, y, z = np.array([1, 2, 3]), np.array([4, 5]), np.array([6.5, 7.5, 8.5, 9.5])
    got = mx.meshgrid(mx.array(x), mx.array(y), mx.array(z.astype(np.float32)),
                      indexing=indexing, sparse=sparse)
    want = np.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
    assert isinstance(got, tuple) and len(got) == 3
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(to_np(g), w)


def test_meshgrid_edge_cases():
    assert mx.meshgrid() == ()
    (a,) = mx.meshgrid(mx.array([1, 2, 3]))
    assert a.tolist() == [1, 2, 3]
    with pytest.raises(ValueError):
        mx.meshgrid(mx.array([1, 2]), indexing="zz")


def test_float64_from_lists_is_not_rounded_through_float32():
    # MLX 0.32.4: mx.array([0.1], dtype=mx.float64) holds the double 0.1 exactly
    vals = [[0.1, 1 / 3], [2.0 ** -40, 1e300]]
    a = mx.array(vals, dtype=mx.float64)
    assert a.dtype == mx.float64
    np.testing.assert_array_equal(np.array(a), np.array(vals, dtype=np.float64))
    assert np.array(mx.array((0.1,), dtype=mx.float64))[0] == 0.1
    assert mx.array([0.1]).dtype == mx.float32          # no dtype: MLX's float32
