"""diff, kron, trunc, empty/empty_like, the window functions, can_cast, result_type,
isdtype, matrix_transpose, vecdot and depends against numpy (and MLX's recorded rules),
with their bad-input errors."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, NP_DTYPE, dt, promote

RNG = np.random.default_rng(11)


def _np(a):
    return np.array(a)


# ---------------------------------------------------------------- diff

@pytest.mark.parametrize("shape,n,axis", [((7,), 1, -1), ((7,), 3, 0), ((4, 5), 2, 0),
                                          ((4, 5), 1, 1), ((3, 4, 5), 2, -2),
                                          ((4, 5), 0, 1), ((4, 5), 5, 1), ((4, 5), 9, 0)])
def test_diff_matches_numpy(shape, n, axis):
    x = RNG.integers(-20, 20, shape).astype(np.int32)
    got = mx.diff(mx.array(x), n, axis)
    want = np.diff(x, n, axis)
    assert got.shape == want.shape and got.dtype == mx.int32
    np.testing.assert_array_equal(_np(got), want)


@pytest.mark.parametrize("name", ["bool_", "uint8", "int16", "float16", "float32"])
def test_diff_dtypes(name):
    x = (RNG.integers(0, 2, 9) if name == "bool_" else RNG.integers(0, 50, 9)).astype(
        NP_DTYPE[name])
    got = mx.diff(mx.array(x, dt(name)), 2)
    assert got.dtype == dt(name)
    np.testing.assert_array_equal(_np(got), np.diff(x, 2))


@pytest.mark.mlxc_only     # MLX takes n as int32 (TypeError past it)
def test_diff_huge_n_is_empty_and_fast():
    got = mx.diff(mx.arange(5), 2**62)
    assert got.shape == (0,) and got.dtype == mx.int32


def test_diff_bad_input():
    with pytest.raises(ValueError, match=r"\[diff\].*non-negative"):
        mx.diff(mx.arange(3), -1)
    with pytest.raises(IndexError, match=r"\[diff\]"):
        mx.diff(mx.array(3))
    with pytest.raises(IndexError, match=r"\[diff\]"):
        mx.diff(mx.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError):
        mx.diff(mx.arange(3), 1.5)


# ---------------------------------------------------------------- kron

@pytest.mark.parametrize("sa,sb", [((2, 2), (2, 2)), ((3,), (2,)), ((2, 3), (4,)),
                                   ((), (3,)), ((), ()), ((2,), (2, 2, 2)), ((1, 3), (2, 1))])
def test_kron_matches_numpy(sa, sb):
    a = RNG.integers(-5, 5, sa).astype(np.int32)
    b = RNG.standard_normal(sb).astype(np.float32)
    got = mx.kron(mx.array(a), mx.array(b))
    want = np.kron(a, b)
    assert got.shape == want.shape and got.dtype == mx.float32
    np.testing.assert_allclose(_np(got), want, rtol=1e-6)


def test_kron_promotes_and_differentiates():
    assert mx.kron(mx.ones((2,), mx.int8), mx.ones((2,), mx.float16)).dtype == mx.float16
    a = mx.array(RNG.standard_normal((2, 3)).astype(np.float32))
    b = mx.array(RNG.standard_normal((3, 2)).astype(np.float32))
    ga = mx.grad(lambda a: mx.kron(a, b).sum())(a)
    np.testing.assert_allclose(_np(ga), np.full((2, 3), _np(b).sum()), rtol=1e-5)


# ---------------------------------------------------------------- trunc, empty

def test_trunc():
    x = np.array([-2.7, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.7, np.inf, -np.inf, np.nan],
                 np.float32)
    got = _np(mx.trunc(mx.array(x)))
    np.testing.assert_array_equal(got, np.trunc(x))
    assert np.signbit(got[2]) and np.signbit(got[3])
    for name in ("int32", "uint8", "bool_"):
        v = mx.array(np.array([1, 0, 1]).astype(NP_DTYPE[name]))
        assert mx.trunc(v).dtype == dt(name)
        np.testing.assert_array_equal(_np(mx.trunc(v)), _np(v))
    assert mx.trunc(mx.array([1.5], mx.bfloat16)).dtype == mx.bfloat16
    with pytest.raises(ValueError, match=r"\[trunc\] Not supported for complex64"):
        mx.trunc(mx.array([1 + 2j]))


def test_empty_is_zeros():
    assert mx.empty is mx.zeros and mx.empty_like is mx.zeros_like
    e = mx.empty((2, 3), mx.int16)
    assert e.shape == (2, 3) and e.dtype == mx.int16


# ---------------------------------------------------------------- windows

@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("M", [-3, 0, 1, 2, 3, 7, 50, 51, 256])
def test_windows_match_numpy(name, M):
    got = getattr(mx, name)(M)
    want = getattr(np, name)(M)
    assert got.dtype == mx.float32 and got.shape == want.shape
    # mlxc rounds numpy's float64 values once; MLX is within 3e-7 of them
    np.testing.assert_allclose(_np(got), want, rtol=0, atol=3e-7)


@pytest.mark.mlxc_only     # mlxc computes in float64 and rounds once
@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
def test_windows_are_correctly_rounded(name):
    for M in (2, 5, 64, 1001):
        np.testing.assert_array_equal(_np(getattr(mx, name)(M)),
                                      getattr(np, name)(M).astype(np.float32))


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
def test_windows_bad_input(name):
    f = getattr(mx, name)
    with pytest.raises(TypeError):
        f(2.0)
    with pytest.raises(TypeError):
        f("3")


# ---------------------------------------------------------------- dtype queries

@pytest.mark.parametrize("a", DTYPE_NAMES)
@pytest.mark.parametrize("b", DTYPE_NAMES)
def test_result_type_and_can_cast(a, b):
    r = mx.result_type(dt(a), dt(b))
    assert r == dt(promote(a, b))
    assert mx.result_type(mx.zeros((1,), dt(a)), dt(b)) == r
    assert mx.can_cast(dt(a), dt(b)) == (promote(a, b) == b)
    assert mx.can_cast(mx.zeros((1,), dt(a)), dt(b)) == (promote(a, b) == b)


def test_result_type_many_and_errors():
    assert mx.result_type(mx.float16, mx.bfloat16, mx.int8) == mx.float32
    assert mx.result_type(mx.int8) == mx.int8
    with pytest.raises(ValueError, match=r"\[result_type\] At least one"):
        mx.result_type()
    with pytest.raises(ValueError, match=r"\[result_type\] Inputs must be arrays or dtypes"):
        mx.result_type(1, mx.int8)
    with pytest.raises(ValueError, match=r"\[can_cast\] `from_` must be an array or a dtype"):
        mx.can_cast(1, mx.int32)
    with pytest.raises(TypeError):
        mx.can_cast(mx.int32, "int64")


KINDS = {
    "bool": {"bool_"},
    "signed integer": {"int8", "int16", "int32", "int64"},
    "unsigned integer": {"uint8", "uint16", "uint32", "uint64"},
    "integral": {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"},
    "real floating": {"float16", "bfloat16", "float32", "float64"},
    "complex floating": {"complex64"},
    "numeric": set(DTYPE_NAMES) - {"bool_"},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_isdtype_kinds(kind, name):
    assert mx.isdtype(dt(name), kind) == (name in KINDS[kind])
    assert mx.isdtype(dt(name), dt(name))
    assert mx.isdtype(dt(name), (mx.int32, kind)) == (name in KINDS[kind] or name == "int32")
    assert mx.isdtype(dt(name), ()) is False


def test_isdtype_errors():
    with pytest.raises(ValueError, match=r"\[isdtype\] Unknown data type kind: 'foo'"):
        mx.isdtype(mx.int32, "foo")
    for bad in (mx.floating, 3, ["bool"], (mx.floating,), (("bool",),)):
        with pytest.raises(ValueError, match=r"\[isdtype\] `kind` must be"):
            mx.isdtype(mx.int32, bad)
    with pytest.raises(TypeError):
        mx.isdtype(mx.zeros(2), "bool")
    assert mx.isdtype(mx.int32, (mx.int32, "foo"))      # the first match answers, as in MLX


# ---------------------------------------------------------------- matrix_transpose, vecdot

def test_matrix_transpose():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(_np(mx.matrix_transpose(mx.array(x))), np.swapaxes(x, -1, -2))
    for bad in (mx.zeros((3,)), mx.array(1.0)):
        with pytest.raises(ValueError, match=r"\[matrix_transpose\]"):
            mx.matrix_transpose(bad)


@pytest.mark.parametrize("sa,sb,axis", [((5,), (5,), -1), ((2, 3), (2, 3), -1),
                                        ((2, 3), (2, 3), 0), ((2, 3), (1, 3), -1),
                                        ((4, 1, 3), (1, 5, 3), 2), ((2, 3), (2, 1), 0)])
def test_vecdot_matches_numpy(sa, sb, axis):
    a = RNG.standard_normal(sa).astype(np.float32)
    b = RNG.standard_normal(sb).astype(np.float32)
    got = mx.vecdot(mx.array(a), mx.array(b), axis=axis)
    want = np.sum(a * b, axis=axis)
    assert got.shape == want.shape
    np.testing.assert_allclose(_np(got), want, rtol=1e-5, atol=1e-6)


def test_vecdot_complex_conjugates_first_and_dtypes():
    a = np.array([1 + 2j, 3j], np.complex64)
    b = np.array([1j, 2 + 1j], np.complex64)
    np.testing.assert_allclose(_np(mx.vecdot(mx.array(a), mx.array(b))), np.vdot(a, b))
    x = mx.arange(6).reshape(2, 3)
    assert mx.vecdot(x, x).dtype == mx.int32
    np.testing.assert_array_equal(_np(mx.vecdot(x, x)), [5, 50])
    assert mx.vecdot(x.astype(mx.float16), x).dtype == mx.float16
    assert mx.vecdot(mx.array([True, False]), mx.array([True, True])).dtype == mx.int32


def test_vecdot_errors():
    x = mx.zeros((2, 3))
    with pytest.raises(ValueError, match=r"\[vecdot\] inputs must be at least 1D"):
        mx.vecdot(mx.array(2.0), mx.array(3.0))
    with pytest.raises(IndexError, match=r"\[vecdot\] axis"):
        mx.vecdot(x, x, axis=2)
    with pytest.raises(IndexError, match=r"\[vecdot\] axis"):
        mx.vecdot(x, x, axis=-3)
    with pytest.raises(ValueError, match=r"\[vecdot\] axis is out of bounds"):
        mx.vecdot(x, mx.zeros((3,)))
    with pytest.raises(ValueError, match=r"\[vecdot\] a and b must have the same size"):
        mx.vecdot(x, mx.zeros((2, 2)))
    with pytest.raises(TypeError):
        mx.vecdot(x, x, axis=1.0)


# ---------------------------------------------------------------- depends

def test_depends_values_and_structure():
    x, y = mx.array([1.0, 2.0]), mx.array([3.0])
    out = mx.depends(x, y)
    assert isinstance(out, mx.array) and out is not x
    np.testing.assert_array_equal(_np(out), [1, 2])
    outs = mx.depends((x, x * 2), [y, y + 1])
    assert isinstance(outs, list) and len(outs) == 2
    np.testing.assert_array_equal(_np(outs[1]), [2, 4])
    np.testing.assert_array_equal(_np(mx.depends([x], y)[0]), [1, 2])
    np.testing.assert_array_equal(_np(mx.depends(x, [])), [1, 2])


def test_depends_evaluates_the_dependencies():
    x = mx.array([1.0, 2.0])
    dep = mx.exp(mx.array([0.5]))
    out = mx.depends(x * 2, dep)
    mx.eval(out)
    # the dependency has been computed: reading it now needs no work and gives exp(0.5)
    np.testing.assert_allclose(_np(dep), [np.exp(0.5)], rtol=1e-6)


def test_depends_transforms():
    x = mx.array([1.0, 2.0, 3.0])
    g = mx.grad(lambda v: (mx.depends(v * 2, v * 3) ** 2).sum())(x)
    np.testing.assert_allclose(_np(g), 8 * _np(x))
    y = mx.array([4.0])
    g = mx.grad(lambda w: mx.depends(x * 2, w * 3).sum())(y)
    np.testing.assert_array_equal(_np(g), [0.0])


@pytest.mark.mlxc_only     # MLX 0.32.4 has no jvp/vmap for Depends
def test_depends_jvp_vmap():
    x = mx.array([1.0, 2.0, 3.0])
    _, t = mx.jvp(lambda v: mx.depends(v * 2, v * 3), (x,), (mx.ones(3),))
    np.testing.assert_array_equal(_np(t[0]), [2, 2, 2])
    _, t = mx.jvp(lambda v, w: mx.depends([v, v * w], [w]), (x, x), (mx.ones(3), mx.ones(3)))
    np.testing.assert_array_equal(_np(t[0]), [1, 1, 1])
    np.testing.assert_array_equal(_np(t[1]), _np(x) * 2)
    xb = mx.array(RNG.standard_normal((4, 3)).astype(np.float32))
    got = mx.vmap(lambda v: mx.depends(v * 2, v.sum()))(xb)
    np.testing.assert_allclose(_np(got), _np(xb) * 2)
    got = mx.vmap(lambda v, d: mx.depends(v + 1, d), in_axes=(None, 0))(x, xb)
    assert got.shape == (4, 3)
    np.testing.assert_allclose(_np(got), np.broadcast_to(_np(x) + 1, (4, 3)))
    got = mx.vmap(lambda v: mx.depends([v, v * 3], [v]), in_axes=1, out_axes=1)(xb)
    np.testing.assert_allclose(_np(got[1]), _np(xb) * 3)


@pytest.mark.mlxc_only     # MLX crashes or raises RuntimeError (std::bad_cast) here
def test_depends_bad_input():
    x = mx.array([1.0])
    with pytest.raises(TypeError, match=r"\[depends\] inputs"):
        mx.depends(1, x)
    with pytest.raises(TypeError, match=r"\[depends\] dependencies"):
        mx.depends(x, 2)
    with pytest.raises(TypeError, match=r"\[depends\] inputs"):
        mx.depends([x, 3], x)
    assert mx.depends([], x) == []
