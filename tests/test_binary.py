"""Element-wise binary ops (function forms), where, clip, isclose/allclose,
array_equal — against numpy float64 oracles, with broadcasting."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mlxc.core as mx
from helpers import (DTYPE_NAMES, REAL_FLOAT_NAMES, assert_close, dt, promote,
                     rand, to_np)

BINARY = {
    "add": (mx.add, np.add, (-3, 3), (-3, 3)),
    "subtract": (mx.subtract, np.subtract, (-3, 3), (-3, 3)),
    "multiply": (mx.multiply, np.multiply, (-3, 3), (-3, 3)),
    "divide": (mx.divide, np.divide, (-3, 3), (0.5, 3)),
    "floor_divide": (mx.floor_divide, np.floor_divide, (-3, 3), (0.7, 3)),
    "remainder": (mx.remainder, np.remainder, (-3, 3), (0.7, 3)),
    "power": (mx.power, np.power, (0.2, 3), (-2, 2)),
    "pow": (mx.pow, np.power, (0.2, 3), (-2, 2)),
    "maximum": (mx.maximum, np.maximum, (-3, 3), (-3, 3)),
    "minimum": (mx.minimum, np.minimum, (-3, 3), (-3, 3)),
    "arctan2": (mx.arctan2, np.arctan2, (-3, 3), (-3, 3)),
    "logaddexp": (mx.logaddexp, np.logaddexp, (-5, 5), (-5, 5)),
}
COMPARE = {
    "equal": (mx.equal, np.equal), "not_equal": (mx.not_equal, np.not_equal),
    "less": (mx.less, np.less), "less_equal": (mx.less_equal, np.less_equal),
    "greater": (mx.greater, np.greater),
    "greater_equal": (mx.greater_equal, np.greater_equal),
}
SHAPES = [((4,), (4,)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((2, 1, 3), (4, 1)),
          ((), (3,)), ((2, 2), ())]


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("name", REAL_FLOAT_NAMES)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_binary_float(op, name, sa, sb):
    f, ref, da, db = BINARY[op]
    a, na = rand(sa, name, *da, seed=21)
    b, nb = rand(sb, name, *db, seed=22)
    r = f(a, b)
    kw = {}
    if op in ("floor_divide", "remainder") and name != "float32":
        kw = dict(atol=0.05)
    if op == "power" and name == "bfloat16":
        kw = dict(rtol=3e-2, atol=3e-2)
    assert_close(r, ref(na, nb), dtype=name, **kw)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "floor_divide",
                                "remainder", "maximum", "minimum", "power"])
@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "uint32"])
def test_binary_int(op, name):
    f, ref, _, _ = BINARY[op]
    signed = not name.startswith("u")
    av = [-6, -1, 0, 3, 7, 10] if signed else [0, 1, 3, 6, 7, 10]
    bv = [4, 3, -2, 2, 1, 3] if signed else [4, 3, 2, 2, 1, 3]
    if op == "power":
        bv = [2, 3, 0, 2, 1, 2]
    a, b = mx.array(av, dt(name)), mx.array(bv, dt(name))
    nt = getattr(np, name)
    want = ref(np.array(av, nt), np.array(bv, nt)).astype(np.int64)
    assert_close(f(a, b), want, dtype=name)


def test_divide_ints_gives_float32():
    assert_close(mx.divide(mx.array([3, -7]), mx.array([2, 2])), [1.5, -3.5], dtype="float32")
    assert_close(mx.divide(mx.array([3], mx.int8), mx.array([2], mx.int8)), [1.5], dtype="float32")
    assert mx.divide(mx.array([True]), mx.array([True])).dtype == mx.float32


def test_bool_arith():
    t, f = mx.array([True, True]), mx.array([True, False])
    assert mx.add(t, f).tolist() == [True, True] and mx.add(t, f).dtype == mx.bool_
    assert mx.multiply(t, f).tolist() == [True, False]
    assert mx.subtract(mx.array([True]), mx.array([True])).tolist() == [False]


def test_scalar_arguments():
    assert_close(mx.add(1, 2), 3, dtype="int32")
    assert_close(mx.add(1.5, 2), 3.5, dtype="float32")
    assert mx.add(True, True).dtype == mx.bool_
    assert_close(mx.floor_divide(7, mx.array([2])), [3], dtype="int32")
    assert_close(mx.remainder(mx.array([-7]), 3), [2], dtype="int32")
    assert_close(mx.arctan2(1, 1), np.pi / 4, dtype="float32")
    assert_close(mx.multiply(mx.array([1.0], mx.float16), 3.0), [3.0], dtype="float16")


@pytest.mark.parametrize("a", ["int8", "uint16", "float16", "bfloat16", "int64", "bool_"])
@pytest.mark.parametrize("b", ["uint8", "int32", "float32", "uint64"])
def test_function_forms_promote(a, b):
    x = mx.ones((2,), dt(a))
    y = mx.ones((2,), dt(b))
    for f in (mx.add, mx.subtract, mx.multiply, mx.maximum, mx.minimum):
        assert f(x, y).dtype == dt(promote(a, b))
    assert mx.equal(x, y).dtype == mx.bool_


def test_nan_propagation_in_maximum_minimum():
    nan = float("nan")
    r = mx.maximum(mx.array([1.0, nan]), mx.array([nan, 2.0])).tolist()
    assert np.isnan(r).all()
    r = mx.minimum(mx.array([1.0, nan]), mx.array([nan, 2.0])).tolist()
    assert np.isnan(r).all()


def test_logaddexp_extremes():
    r = mx.logaddexp(mx.array([1000.0, -1000.0]), mx.array([1000.0, -1000.0]))
    assert_close(r, [1000 + np.log(2), -1000 + np.log(2)], dtype="float32")
    assert mx.logaddexp(mx.array([-np.inf]), mx.array([-np.inf])).item() == -np.inf


def test_divmod():
    q, r = mx.divmod(mx.array([7, -7, 7, -7]), mx.array([2, 2, -2, -2]))
    assert q.tolist() == [3, -4, -4, 3] and r.tolist() == [1, 1, -1, -1]
    q, r = mx.divmod(mx.array([7.5, -7.5]), 2)
    assert q.tolist() == [3.0, -4.0] and r.tolist() == [1.5, 0.5]
    assert q.dtype == mx.float32
    with pytest.raises(TypeError):
        divmod(mx.array([1]), mx.array([2]))  # no __divmod__ in MLX


@pytest.mark.parametrize("op", list(COMPARE))
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_comparisons(op, sa, sb):
    f, ref = COMPARE[op]
    a, na = rand(sa, "int32", -2, 2, seed=31)
    b, nb = rand(sb, "float32", -2, 2, seed=32)
    b = mx.round(b)
    nb = np.round(nb)
    r = f(a, b)
    assert r.dtype == mx.bool_
    np.testing.assert_array_equal(to_np(r), ref(na, nb))


def test_logical_ops():
    a = mx.array([1, 0, 2, 0])
    b = mx.array([2.0, 2.0, 0.0, 0.0])
    assert mx.logical_and(a, b).tolist() == [True, False, False, False]
    assert mx.logical_or(a, b).tolist() == [True, True, True, False]
    assert mx.logical_xor(a, b).tolist() == [False, True, True, False]
    assert mx.logical_xor(mx.array([True, False]), True).tolist() == [False, True]
    assert mx.logical_and(True, mx.array([True])).tolist() == [True]
    assert mx.logical_or(a, b).dtype == mx.bool_


@pytest.mark.parametrize("name", ["uint8", "int16", "int32", "uint64", "int64"])
def test_bitwise_functions(name):
    av, bv = [12, 10, 255, 7], [10, 6, 1, 0]
    a, b = mx.array(av, dt(name)), mx.array(bv, dt(name))
    nt = getattr(np, name)
    na, nb = np.array(av, nt), np.array(bv, nt)
    for f, g in [(mx.bitwise_and, np.bitwise_and), (mx.bitwise_or, np.bitwise_or),
                 (mx.bitwise_xor, np.bitwise_xor)]:
        assert_close(f(a, b), g(na, nb).astype(np.int64), dtype=name)
    sh = mx.array([1, 2, 3, 0], dt(name))
    nsh = np.array([1, 2, 3, 0], nt)
    assert_close(mx.left_shift(a, sh), np.left_shift(na, nsh).astype(np.int64), dtype=name)
    assert_close(mx.right_shift(a, sh), np.right_shift(na, nsh).astype(np.int64), dtype=name)
    assert mx.left_shift(1, mx.array([3])).tolist() == [8]


def test_bitwise_functions_reject_float():
    # MLX: the function forms raise RuntimeError (the operators ValueError)
    for f in (mx.bitwise_and, mx.bitwise_or, mx.bitwise_xor, mx.left_shift, mx.right_shift):
        with pytest.raises(RuntimeError, match="integer or boolean"):
            f(mx.array([1.0]), mx.array([1]))


# ---------------------------------------------------------------- where --
def test_where():
    c = mx.array([True, False, True])
    assert_close(mx.where(c, mx.array([1, 2, 3]), mx.array([10, 20, 30])), [1, 20, 3], dtype="int32")
    assert_close(mx.where(mx.array([True, False]), 1, 2), [1, 2], dtype="int32")
    assert_close(mx.where(mx.array([True, False]), 1.5, mx.array([1, 2], mx.int8)),
                 [1.5, 2.0], dtype="float32")
    assert_close(mx.where(mx.array([1, 0]), mx.array([1, 2]), mx.array([[3], [4]])),
                 [[1, 3], [1, 4]], dtype="int32")
    assert mx.where(mx.array([True]), mx.array([1], mx.float16), 2.0).dtype == mx.float16


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2 ** 16), st.sampled_from([(3,), (2, 3), (4, 1, 3)]))
def test_where_property(seed, shape):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 2, shape).astype(bool)
    x = rng.standard_normal(shape[-1:]).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    r = mx.where(mx.array(c), mx.array(x), mx.array(y))
    np.testing.assert_array_equal(to_np(r), np.where(c, x, y))


# ----------------------------------------------------------------- clip --
def test_clip():
    a = mx.array([1, 5, 10])
    assert_close(mx.clip(a, 2, 8), [2, 5, 8], dtype="int32")
    assert_close(mx.clip(a, None, 8), [1, 5, 8], dtype="int32")
    assert_close(mx.clip(a, 2, None), [2, 5, 10], dtype="int32")
    assert_close(mx.clip(a, mx.array([0, 6, 0]), mx.array([0, 7, 20])), [0, 6, 10])
    assert_close(mx.clip(a, 2.5, 8), [2.5, 5, 8], dtype="float32")
    assert_close(mx.clip(mx.array([1.0, 5, 10]), a_min=8, a_max=2), [2, 2, 2])
    x, nx = rand((3, 4), "float32", seed=5)
    assert_close(mx.clip(x, -1.0, mx.array([0.0, 0.5, 1.0, 2.0])),
                 np.clip(nx, -1.0, np.array([0.0, 0.5, 1.0, 2.0])))
    with pytest.raises(ValueError):
        mx.clip(a, None, None)


# -------------------------------------------- isclose / allclose / equal --
def test_isclose_allclose():
    nan = float("nan")
    a = mx.array([1.0, nan, 1e10, 0.0])
    b = mx.array([1.00001, nan, 1.00001e10, 1e-9])
    # oracle on the float32-rounded inputs
    na, nb = to_np(a), to_np(b)
    np.testing.assert_array_equal(to_np(mx.isclose(a, b)), np.isclose(na, nb))
    np.testing.assert_array_equal(to_np(mx.isclose(a, b, equal_nan=True)),
                                  np.isclose(na, nb, equal_nan=True))
    np.testing.assert_array_equal(to_np(mx.isclose(a, b, rtol=0, atol=1e-3)),
                                  np.isclose(na, nb, rtol=0, atol=1e-3))
    assert mx.isclose(mx.array([np.inf]), mx.array([np.inf])).tolist() == [True]
    assert mx.isclose(mx.array([1, 2]), mx.array([1, 3])).tolist() == [True, False]
    r = mx.allclose(mx.array([1.0]), mx.array([1.1]))
    assert isinstance(r, mx.array) and r.dtype == mx.bool_ and r.item() is False
    assert mx.allclose(mx.array([1.0]), mx.array([1.1]), rtol=0.2).item()
    assert mx.allclose(mx.array([1.0]), mx.array([1.1]), atol=0.2).item()
    assert not mx.allclose(mx.array([nan]), mx.array([nan])).item()
    assert mx.allclose(mx.array([nan]), mx.array([nan]), equal_nan=True).item()


def test_array_equal():
    assert mx.array_equal(mx.array([1, 2]), mx.array([1.0, 2.0])).item() is True
    assert mx.array_equal(mx.array([1, 2]), mx.array([1, 2, 3])).item() is False
    assert mx.array_equal(mx.array([[1, 2]]), mx.array([1, 2])).item() is False
    assert mx.array_equal(mx.array([np.nan]), mx.array([np.nan])).item() is False
    assert mx.array_equal(mx.array([np.nan]), mx.array([np.nan]), equal_nan=True).item() is True
    assert mx.array_equal(1, mx.array(1)).item() is True
    assert mx.array_equal(mx.array([1, 2]), mx.array([1, 2])).dtype == mx.bool_


# ------------------------------------------------- hypothesis properties --
_shape = st.lists(st.integers(1, 4), min_size=0, max_size=3)


@st.composite
def broadcastable_pair(draw):
    s = draw(_shape)
    t = [1 if draw(st.booleans()) else d for d in s]
    t = t[draw(st.integers(0, len(t))):]
    return (tuple(s), tuple(t)) if draw(st.booleans()) else (tuple(t), tuple(s))


@settings(max_examples=40, deadline=None)
@given(broadcastable_pair(),
       st.sampled_from(["add", "subtract", "multiply", "maximum", "divide"]),
       st.sampled_from(["float32", "float16", "int32", "int8", "uint8", "bool_"]),
       st.sampled_from(["float32", "int16", "uint16", "bfloat16"]),
       st.integers(0, 1000))
def test_binary_broadcast_property(shapes, op, da, db, seed):
    f, ref, _, _ = BINARY[op]
    a, na = rand(shapes[0], da, 1, 4, seed=seed)
    b, nb = rand(shapes[1], db, 1, 4, seed=seed + 1)
    r = f(a, b)
    out = promote(da, db)
    if op == "divide" and out not in ("float16", "bfloat16", "float32", "float64"):
        out = "float32"
    with np.errstate(divide="ignore", invalid="ignore"):  # x / False -> inf
        want = ref(na.astype(np.float64), nb.astype(np.float64))
    assert r.dtype == dt(out)
    assert r.shape == np.broadcast_shapes(shapes[0], shapes[1])
    if out.startswith(("int", "uint")):
        want = want.astype(getattr(np, out)).astype(np.int64)  # wraparound
    tolname = out if out in ("float16", "bfloat16") else "float32"
    from helpers import tol
    rt, at = tol(tolname)
    if out.startswith(("int", "uint")):
        rt = at = 0
    np.testing.assert_allclose(to_np(r).astype(np.float64), want, rtol=rt, atol=at)


def test_broadcast_error():
    with pytest.raises(ValueError):
        mx.add(mx.ones((2, 3)), mx.ones((4,)))


def test_maximum_minimum_vjp_ties_and_nan_as_mlx():
    # MLX 0.32.4: a tie sends the whole cotangent to the second argument, a NaN on
    # either side sends it to neither; the jvp uses the same masks.
    nan = float("nan")
    a = mx.array([0.0, 1.0, nan, 0.0, nan, -1.0])
    b = mx.array([0.0, 0.0, 0.0, nan, nan, 0.0])
    g = mx.ones(6)
    want = {
        "maximum": ([0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1]),
        "minimum": ([0, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0]),
    }
    for name, (wa, wb) in want.items():
        f = getattr(mx, name)
        ga, gb = mx.vjp(f, [a, b], [g])[1]
        assert ga.tolist() == wa and gb.tolist() == wb, name
        (ta,) = mx.jvp(f, [a, b], [g, mx.zeros(6)])[1]
        (tb,) = mx.jvp(f, [a, b], [mx.zeros(6), g])[1]
        assert ta.tolist() == wa and tb.tolist() == wb, name
