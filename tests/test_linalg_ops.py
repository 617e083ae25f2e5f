"""matmul, addmm, inner, outer, tensordot, softmax."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import assert_close, dt, rand, to_np

MM_TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sa,sb", [
    ((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((4,), (2, 4, 3)),
    ((4, 1, 2, 3), (5, 3, 2)), ((1, 3, 4), (6, 4, 2)), ((2, 0), (0, 3)),
    ((1, 1), (1, 1)), ((17, 33), (33, 9)),
])
def test_matmul(sa, sb):
    a, na = rand(sa, seed=51)
    b, nb = rand(sb, seed=52)
    want = np.matmul(na, nb)
    assert_close(mx.matmul(a, b), want, dtype="float32", **MM_TOL)
    assert_close(a @ b, want, dtype="float32", **MM_TOL)


@pytest.mark.parametrize("da,db,out", [
    ("float16", "float16", "float16"), ("bfloat16", "bfloat16", "bfloat16"),
    ("float16", "float32", "float32"), ("bfloat16", "float16", "float32"),
    ("float32", "int32", "float32"), ("float64", "float32", "float64"),
])
def test_matmul_dtypes(da, db, out):
    a, na = rand((3, 4), da, seed=53)
    b, nb = rand((4, 2), db, seed=54)
    tolname = out
    r = mx.matmul(a, b)
    assert r.dtype == dt(out)
    rt = {"float16": 5e-3, "bfloat16": 3e-2}.get(out, 1e-5)
    assert_close(r, na @ nb, rtol=rt, atol=rt * 4)


def test_matmul_complex():
    a = np.array([[1 + 1j, 2], [0, 1j]])
    b = np.array([[1, -1j], [2 + 0.5j, 1]])
    assert_close(mx.matmul(mx.array(a), mx.array(b)), a @ b, dtype="complex64")


def test_matmul_errors():
    with pytest.raises(ValueError):
        mx.matmul(mx.array([[1, 2]]), mx.array([[1], [2]]))     # ints not supported
    with pytest.raises(ValueError):
        mx.matmul(mx.ones((2, 3)), mx.ones((2, 3)))
    with pytest.raises(ValueError):
        mx.matmul(mx.ones(3), mx.ones(4))
    with pytest.raises(ValueError):
        mx.matmul(mx.ones(3), mx.array(2.0))
    with pytest.raises(ValueError):
        mx.matmul(mx.ones((2, 2, 3)), mx.ones((3, 3, 2)))


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (2.0, 0.5), (-1.0, 0.0), (0.0, 3.0)])
@pytest.mark.parametrize("cshape", [(3, 5), (5,), (1, 5), (3, 1)])
def test_addmm(alpha, beta, cshape):
    c, nc = rand(cshape, seed=55)
    a, na = rand((3, 4), seed=56)
    b, nb = rand((4, 5), seed=57)
    want = alpha * (na @ nb) + beta * nc
    assert_close(mx.addmm(c, a, b, alpha=alpha, beta=beta), want, dtype="float32", **MM_TOL)
    assert_close(mx.addmm(c, a, b, alpha, beta), want, **MM_TOL)


def test_addmm_batched_and_defaults():
    c, nc = rand((2, 3, 5), seed=58)
    a, na = rand((2, 3, 4), seed=59)
    b, nb = rand((2, 4, 5), seed=60)
    assert_close(mx.addmm(c, a, b), na @ nb + nc, **MM_TOL)
    with pytest.raises(ValueError):
        mx.addmm(mx.ones((3, 3)), mx.ones((2, 3)), mx.ones((3, 2)))


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((2, 4), (3, 4)), ((2, 3, 4), (4,)),
                                   ((), (3,)), ((4,), (2, 5, 4))])
def test_inner(sa, sb):
    a, na = rand(sa, seed=61)
    b, nb = rand(sb, seed=62)
    assert_close(mx.inner(a, b), np.inner(na, nb), dtype="float32", **MM_TOL)


def test_inner_errors():
    with pytest.raises(ValueError):
        mx.inner(mx.ones(2), mx.ones(3))
    with pytest.raises(ValueError):
        mx.inner(mx.array([1, 2]), mx.array([3, 4]))


@pytest.mark.parametrize("sa,sb,name", [((2,), (3,), "int32"), ((2, 2), (3,), "float32"),
                                        ((4,), (1,), "float32"), ((3,), (2, 2), "float16")])
def test_outer(sa, sb, name):
    a, na = rand(sa, name, seed=63)
    b, nb = rand(sb, name, seed=64)
    assert_close(mx.outer(a, b), np.outer(na, nb), dtype=name)


@pytest.mark.parametrize("sa,sb,axes", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 5), 1), ((2, 3), (2, 3), 0),
    ((2, 3, 4), (3, 2), [[1, 0], [0, 1]]), ((2, 3), (3, 2), ([1], [0])),
    ((3, 4, 5), (5, 4, 2), [[2, 1], [0, 1]]),
])
def test_tensordot(sa, sb, axes):
    a, na = rand(sa, seed=65)
    b, nb = rand(sb, seed=66)
    assert_close(mx.tensordot(a, b, axes=axes), np.tensordot(na, nb, axes=axes),
                 dtype="float32", **MM_TOL)


def test_tensordot_default_and_errors():
    a, na = rand((2, 3, 4), seed=67)
    b, nb = rand((3, 4, 2), seed=68)
    assert_close(mx.tensordot(a, b), np.tensordot(na, nb), **MM_TOL)
    with pytest.raises(ValueError):
        mx.tensordot(mx.ones((2, 3)), mx.ones((4, 3)), axes=1)
    with pytest.raises(ValueError):
        mx.tensordot(mx.ones((2, 3)), mx.ones((3, 2)), axes=[[1], [0, 1]])


def _np_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), (1, 2)])
def test_softmax(axis):
    a, na = rand((2, 3, 4), seed=69)
    assert_close(mx.softmax(a, axis=axis), _np_softmax(na, axis), dtype="float32")
    if axis is not None:
        assert_close(mx.softmax(a, axis), _np_softmax(na, axis))


def test_softmax_misc():
    assert_close(mx.softmax(mx.array([1000.0, 1000.0])), [0.5, 0.5])
    assert_close(mx.softmax(mx.array([-np.inf, 0.0])), [0.0, 1.0])
    assert_close(mx.softmax(mx.array([1, 2])), _np_softmax(np.array([1.0, 2.0]), None),
                 dtype="float32")
    a, na = rand((3, 5), "float16", seed=70)
    assert_close(mx.softmax(a, axis=-1, precise=True), _np_softmax(na, -1), dtype="float16")
    assert_close(mx.softmax(a, axis=-1), _np_softmax(na, -1), dtype="float16",
                 rtol=5e-3, atol=5e-3)
