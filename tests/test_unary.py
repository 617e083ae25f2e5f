"""Element-wise unary ops against numpy float64 oracles."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mlxc.core as mx
from helpers import (INT_NAMES, REAL_FLOAT_NAMES, assert_close, dt, rand,
                     to_np)

_erf = np.vectorize(math.erf)


def _erfinv(y):
    # bisection on math.erf (float64-accurate), no scipy needed
    y = np.asarray(y, dtype=np.float64)
    out = np.empty_like(y)
    for i, v in np.ndenumerate(y):
        if v <= -1 or v >= 1:
            out[i] = -np.inf if v == -1 else np.inf if v == 1 else np.nan
            continue
        lo, hi = -6.0, 6.0
        for _ in range(80):
            mid = (lo + hi) / 2
            if math.erf(mid) < v:
                lo = mid
            else:
                hi = mid
        out[i] = (lo + hi) / 2
    return out


# name -> (mx function, numpy oracle, (low, high) domain for test data)
UNARY = {
    "abs": (mx.abs, np.abs, (-3, 3)),
    "negative": (mx.negative, np.negative, (-3, 3)),
    "positive": (mx.positive, np.positive, (-3, 3)),
    "sign": (mx.sign, np.sign, (-3, 3)),
    "sqrt": (mx.sqrt, np.sqrt, (0.01, 9)),
    "rsqrt": (mx.rsqrt, lambda x: 1 / np.sqrt(x), (0.1, 9)),
    "square": (mx.square, np.square, (-3, 3)),
    "reciprocal": (mx.reciprocal, np.reciprocal, (0.5, 3)),
    "exp": (mx.exp, np.exp, (-3, 3)),
    "expm1": (mx.expm1, np.expm1, (-1, 1)),
    "log": (mx.log, np.log, (0.1, 9)),
    "log1p": (mx.log1p, np.log1p, (-0.5, 3)),
    "log2": (mx.log2, np.log2, (0.1, 9)),
    "log10": (mx.log10, np.log10, (0.1, 9)),
    "sin": (mx.sin, np.sin, (-3, 3)),
    "cos": (mx.cos, np.cos, (-3, 3)),
    "tan": (mx.tan, np.tan, (-1.2, 1.2)),
    "arcsin": (mx.arcsin, np.arcsin, (-0.95, 0.95)),
    "arccos": (mx.arccos, np.arccos, (-0.95, 0.95)),
    "arctan": (mx.arctan, np.arctan, (-3, 3)),
    "sinh": (mx.sinh, np.sinh, (-3, 3)),
    "cosh": (mx.cosh, np.cosh, (-3, 3)),
    "tanh": (mx.tanh, np.tanh, (-3, 3)),
    "arcsinh": (mx.arcsinh, np.arcsinh, (-3, 3)),
    "arccosh": (mx.arccosh, np.arccosh, (1.1, 5)),
    "arctanh": (mx.arctanh, np.arctanh, (-0.9, 0.9)),
    "sigmoid": (mx.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    "erf": (mx.erf, _erf, (-2, 2)),
    "erfinv": (mx.erfinv, _erfinv, (-0.9, 0.9)),
    "floor": (mx.floor, np.floor, (-3, 3)),
    "ceil": (mx.ceil, np.ceil, (-3, 3)),
    "round": (mx.round, np.round, (-3, 3)),
    "degrees": (mx.degrees, np.degrees, (-3, 3)),
    "radians": (mx.radians, np.radians, (-180, 180)),
    "stop_gradient": (mx.stop_gradient, lambda x: x, (-3, 3)),
    "conjugate": (mx.conjugate, np.conjugate, (-3, 3)),
    "conj": (mx.conj, np.conjugate, (-3, 3)),
    "real": (mx.real, np.real, (-3, 3)),
    "imag": (mx.imag, np.imag, (-3, 3)),
}

ALIASES = {"acos": "arccos", "asin": "arcsin", "atan": "arctan",
           "acosh": "arccosh", "asinh": "arcsinh", "atanh": "arctanh"}


@pytest.mark.parametrize("op", list(UNARY))
@pytest.mark.parametrize("name", REAL_FLOAT_NAMES)
def test_unary_float(op, name):
    f, ref, (lo, hi) = UNARY[op]
    a, na = rand((3, 5), name, lo, hi, seed=11)
    r = f(a)
    kw = {}
    if name == "bfloat16" and op in ("tan", "cosh", "sinh", "exp", "reciprocal",
                                     "degrees", "radians", "square", "erfinv"):
        kw = dict(rtol=3e-2, atol=3e-2)
    if name == "float16" and op in ("tan", "erfinv", "degrees"):
        kw = dict(rtol=4e-3, atol=4e-3)
    assert_close(r, ref(na), dtype=name, **kw)


@pytest.mark.parametrize("alias,op", list(ALIASES.items()))
def test_short_aliases(alias, op):
    f = getattr(mx, alias)
    _, ref, (lo, hi) = UNARY[op]
    a, na = rand((7,), "float32", lo, hi, seed=4)
    assert_close(f(a), ref(na), dtype="float32")


def test_atan2_alias():
    a, b = mx.array([1.0, -1.0]), mx.array([-1.0, 0.0])
    assert_close(mx.atan2(a, b), np.arctan2([1.0, -1.0], [-1.0, 0.0]))


@pytest.mark.parametrize("op", ["sqrt", "exp", "log", "sin", "tanh", "sigmoid",
                                "erf", "rsqrt", "reciprocal", "degrees", "arctan"])
@pytest.mark.parametrize("name", ["int32", "uint8", "int64", "bool_"])
def test_transcendental_of_ints_is_float32(op, name):
    f, ref, _ = UNARY[op]
    a = mx.array([1, 2, 3], dt(name)) if name != "bool_" else mx.array([True, True])
    r = f(a)
    assert_close(r, ref(to_np(a).astype(np.float64)), dtype="float32")


@pytest.mark.parametrize("op", ["abs", "negative", "sign", "square", "floor", "ceil",
                                "round", "positive"])
@pytest.mark.parametrize("name", INT_NAMES)
def test_integer_preserving_unary(op, name):
    f, ref, _ = UNARY[op]
    vals = [0, 1, 5, 7] if name.startswith("u") else [-7, -1, 0, 5]
    a = mx.array(vals, dt(name))
    want = ref(np.array(vals, dtype=getattr(np, name))).astype(np.int64)
    if name == "uint64" and op == "negative":
        want = (-np.array(vals, np.uint64)).astype(np.uint64)
    assert_close(f(a), want, dtype=name)


def test_integer_unary_edge_values():
    assert mx.abs(mx.array([-128], mx.int8)).tolist() == [-128]
    assert mx.negative(mx.array([1], mx.uint32)).tolist() == [4294967295]
    assert mx.sign(mx.array([1, 0], mx.uint8)).tolist() == [1, 0]


def test_bool_unary():
    b = mx.array([True, False])
    assert mx.abs(b).dtype == mx.bool_ and mx.abs(b).tolist() == [True, False]
    assert mx.sign(b).tolist() == [True, False]
    assert mx.floor(b).dtype == mx.bool_
    assert mx.positive(b).tolist() == [True, False]
    with pytest.raises(ValueError):
        mx.negative(b)


@pytest.mark.parametrize("op", ["exp", "sin", "cos", "tanh", "sqrt", "log", "abs",
                                "negative", "square", "conjugate", "sinh", "cosh", "tan"])
def test_complex_unary(op):
    f, ref, _ = UNARY[op]
    c = np.array([1 + 1j, -0.5 + 2j, 0.3 - 0.7j, -1 + 0j])
    r = f(mx.array(c))
    want = ref(c)
    assert_close(r, want, dtype="float32" if op == "abs" else "complex64",
                 rtol=1e-5, atol=1e-5)


def test_complex_parts():
    c = mx.array([1 + 2j, 3 - 4j])
    assert_close(mx.real(c), [1, 3], dtype="float32")
    assert_close(mx.imag(c), [2, -4], dtype="float32")
    assert_close(mx.conj(c), [1 - 2j, 3 + 4j], dtype="complex64")
    assert_close(mx.sign(mx.array([3 + 4j, 0j])), [0.6 + 0.8j, 0], dtype="complex64")
    assert mx.imag(mx.array([1, 2])).tolist() == [0, 0]
    with pytest.raises(ValueError):
        mx.floor(c)


def test_special_values():
    nan, inf = float("nan"), float("inf")
    assert np.isnan(mx.sqrt(mx.array([-1.0])).item())
    assert mx.log(mx.array([0.0])).item() == -inf
    assert np.isnan(mx.log(mx.array([-1.0])).item())
    assert mx.arctanh(mx.array([1.0])).item() == inf
    assert np.isnan(mx.arccosh(mx.array([0.5])).item())
    r = mx.erfinv(mx.array([1.0, -1.0, 2.0])).tolist()
    assert r[0] == inf and r[1] == -inf and np.isnan(r[2])
    assert mx.sigmoid(mx.array([100.0, -100.0])).tolist() == [1.0, 0.0]
    assert abs(mx.expm1(mx.array([1e-10])).item() - 1e-10) < 1e-16
    assert abs(mx.log1p(mx.array([1e-10])).item() - 1e-10) < 1e-16
    # MLX: sign(nan) is 0 (numpy would give nan); sign(-0.0) is 0
    assert mx.sign(mx.array([nan, -0.0, -2.0])).tolist() == [0.0, 0.0, -1.0]


def test_round_half_to_even_and_decimals():
    r = mx.round(mx.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.25]))
    assert r.tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 1.0]
    assert_close(mx.round(mx.array([1.234, -5.678, 12.5]), 1), [1.2, -5.7, 12.5])
    assert_close(mx.round(mx.array([1.23456]), decimals=3), [1.235])
    assert mx.round(mx.array([1234.5, 1250.0]), -2).tolist() == [1200.0, 1200.0]
    assert mx.round(mx.array([15, 25]), -1).tolist() == [20, 20]
    assert mx.round(mx.array([1, 2])).dtype == mx.int32
    assert mx.array([2.5]).round().tolist() == [2.0]


def test_predicates():
    nan, inf = float("nan"), float("inf")
    x = mx.array([1.0, nan, inf, -inf, 0.0])
    nx = np.array([1.0, nan, inf, -inf, 0.0])
    for f, g in [(mx.isnan, np.isnan), (mx.isinf, np.isinf), (mx.isfinite, np.isfinite),
                 (mx.isposinf, np.isposinf), (mx.isneginf, np.isneginf)]:
        r = f(x)
        assert r.dtype == mx.bool_
        np.testing.assert_array_equal(to_np(r), g(nx))
        ri = f(mx.array([1, 2]))
        assert ri.dtype == mx.bool_
        np.testing.assert_array_equal(to_np(ri), g(np.array([1, 2])))
    assert mx.isnan(mx.array([nan], mx.float16)).tolist() == [True]
    assert mx.isinf(mx.array([inf], mx.bfloat16)).tolist() == [True]


def test_logical_not_and_bitwise_invert():
    assert mx.logical_not(mx.array([0, 2, -1])).tolist() == [True, False, False]
    assert mx.logical_not(mx.array([0.0, 0.5])).dtype == mx.bool_
    assert mx.bitwise_invert(mx.array([5], mx.uint8)).tolist() == [250]
    assert mx.bitwise_invert(mx.array([5, -1])).tolist() == [-6, 0]
    assert mx.bitwise_invert(mx.array([True])).tolist() == [False]
    assert mx.bitwise_invert(5).tolist() == -6
    with pytest.raises(ValueError):
        mx.bitwise_invert(mx.array([1.0]))


def test_nan_to_num():
    nan, inf = float("nan"), float("inf")
    x = mx.array([nan, inf, -inf, 1.0])
    f32 = np.finfo(np.float32)
    assert mx.nan_to_num(x).tolist() == [0.0, float(f32.max), float(f32.min), 1.0]
    assert mx.nan_to_num(x, nan=1, posinf=2, neginf=-3).tolist() == [1.0, 2.0, -3.0, 1.0]
    assert mx.nan_to_num(x, 5.0).tolist()[0] == 5.0
    assert mx.nan_to_num(mx.array([inf], mx.float16)).tolist() == [65504.0]
    assert mx.nan_to_num(mx.array([1, 2])).tolist() == [1, 2]


def test_degrees_radians_on_scalars():
    assert_close(mx.radians(180), np.pi, dtype="float32")
    assert_close(mx.degrees(mx.array([np.pi])), [180.0], dtype="float32")


def test_method_forms():
    a, na = rand((4,), "float32", 0.5, 3, seed=8)
    for m, ref in [("abs", np.abs), ("sqrt", np.sqrt), ("exp", np.exp), ("log", np.log),
                   ("log2", np.log2), ("log10", np.log10), ("log1p", np.log1p),
                   ("sin", np.sin), ("cos", np.cos), ("square", np.square),
                   ("reciprocal", np.reciprocal), ("rsqrt", lambda v: 1 / np.sqrt(v)),
                   ("conj", np.conj)]:
        assert_close(getattr(a, m)(), ref(na), dtype="float32")


def test_unary_keeps_shape_including_empty_and_scalar():
    assert mx.exp(mx.zeros((2, 0, 3))).shape == (2, 0, 3)
    assert mx.exp(mx.array(0.0)).shape == ()
    assert mx.exp(mx.array(0.0)).item() == 1.0


def test_unary_positional_only():
    with pytest.raises(TypeError):
        mx.exp(a=mx.array([1.0]))
    with pytest.raises(TypeError):
        mx.abs(a=mx.array([1.0]))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-50, 50, width=32), min_size=1, max_size=30),
       st.sampled_from(["exp", "tanh", "sigmoid", "arctan", "sin", "abs", "floor"]))
def test_unary_property(values, op):
    f, ref, _ = UNARY[op]
    a = mx.array(values)
    assert_close(f(a), ref(np.array(values, np.float64)), dtype="float32",
                 rtol=2e-5, atol=2e-6)
