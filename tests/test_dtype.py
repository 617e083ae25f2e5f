"""Dtypes, dtype categories, finfo/iinfo and type promotion."""
import itertools

import numpy as np
import pytest

import mlxc.core as mx
from helpers import (DTYPE_NAMES, DTYPE_SIZES, FLOAT_NAMES, INT_NAMES,
                     SINT_NAMES, UINT_NAMES, dt, promote, promote_scalar)

CATEGORIES = ["complexfloating", "floating", "inexact", "signedinteger",
              "unsignedinteger", "integer", "number", "generic"]


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_objects(name):
    d = dt(name)
    assert isinstance(d, mx.Dtype)
    assert d.size == DTYPE_SIZES[name]
    short = "bool" if name == "bool_" else name
    assert repr(d) == f"mlx.core.{short}"
    assert str(d) == f"mlx.core.{short}"
    assert mx.zeros((2,), dtype=d).dtype == d


def test_dtype_equality_and_hash():
    assert mx.float32 == mx.float32
    assert mx.float32 != mx.float16
    assert not (mx.int32 == mx.uint32)
    assert hash(mx.float32) == hash(mx.float32)
    d = {mx.float32: "f", mx.int32: "i"}
    assert d[mx.float32] == "f" and d[mx.int32] == "i"
    assert len({dt(n) for n in DTYPE_NAMES}) == len(DTYPE_NAMES)
    # a Dtype never equals a non-Dtype
    assert (mx.float32 == "float32") is False
    assert (mx.float32 == np.float32) is False


def test_dtype_not_constructible():
    with pytest.raises(TypeError):
        mx.Dtype()


def test_dtype_category_enum():
    assert set(mx.DtypeCategory.__members__) == set(CATEGORIES)
    for c in CATEGORIES:
        assert getattr(mx, c) == getattr(mx.DtypeCategory, c)


# which categories each dtype belongs to (observed from MLX)
_MEMBERSHIP = {
    "bool_": {"generic"},
    **{n: {"unsignedinteger", "integer", "number", "generic"} for n in UINT_NAMES},
    **{n: {"signedinteger", "integer", "number", "generic"} for n in SINT_NAMES},
    **{n: {"floating", "inexact", "number", "generic"} for n in FLOAT_NAMES},
    "complex64": {"complexfloating", "inexact", "number", "generic"},
}

_CAT_PARENTS = {
    "complexfloating": {"complexfloating", "inexact", "number", "generic"},
    "floating": {"floating", "inexact", "number", "generic"},
    "inexact": {"inexact", "number", "generic"},
    "signedinteger": {"signedinteger", "integer", "number", "generic"},
    "unsignedinteger": {"unsignedinteger", "integer", "number", "generic"},
    "integer": {"integer", "number", "generic"},
    "number": {"number", "generic"},
    "generic": {"generic"},
}


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_issubdtype_dtype_in_category(name):
    for c in CATEGORIES:
        assert mx.issubdtype(dt(name), getattr(mx, c)) == (c in _MEMBERSHIP[name]), c


@pytest.mark.parametrize("cat", CATEGORIES)
def test_issubdtype_category_in_category(cat):
    for c in CATEGORIES:
        assert mx.issubdtype(getattr(mx, cat), getattr(mx, c)) == (c in _CAT_PARENTS[cat])


def test_issubdtype_dtype_dtype():
    for a, b in itertools.product(DTYPE_NAMES, repeat=2):
        assert mx.issubdtype(dt(a), dt(b)) == (a == b)
    # a category is never a sub-dtype of a concrete dtype
    assert not mx.issubdtype(mx.floating, mx.float32)


@pytest.mark.parametrize("name,bits,eps,maxv,tiny", [
    ("float16", 16, 2.0 ** -10, 65504.0, 2.0 ** -14),
    ("bfloat16", 16, 2.0 ** -7, float(np.float32(3.3895313892515355e38)), 2.0 ** -126),
    ("float32", 32, 2.0 ** -23, float(np.finfo(np.float32).max), 2.0 ** -126),
    ("float64", 64, 2.0 ** -52, float(np.finfo(np.float64).max), 2.0 ** -1022),
])
def test_finfo(name, bits, eps, maxv, tiny):
    f = mx.finfo(dt(name))
    assert f.dtype == dt(name)
    assert f.bits == bits
    assert f.eps == eps
    assert f.max == pytest.approx(maxv, rel=1e-7)
    assert f.min == -f.max
    assert f.smallest_normal == tiny
    assert isinstance(f.max, float)
    assert name in repr(f) and repr(f).startswith("finfo(")


def test_finfo_complex_uses_float32():
    f = mx.finfo(mx.complex64)
    assert f.dtype == mx.float32
    assert f.eps == 2.0 ** -23


@pytest.mark.parametrize("name", ["bool_"] + INT_NAMES)
def test_finfo_rejects_non_inexact(name):
    with pytest.raises(ValueError):
        mx.finfo(dt(name))


@pytest.mark.parametrize("name", INT_NAMES)
def test_iinfo(name):
    i = mx.iinfo(dt(name))
    ni = np.iinfo(getattr(np, name))
    assert i.min == ni.min and i.max == ni.max
    assert isinstance(i.max, int)
    assert i.dtype == dt(name)
    assert repr(i).startswith("iinfo(")


@pytest.mark.parametrize("name", ["bool_"] + FLOAT_NAMES + ["complex64"])
def test_iinfo_rejects_non_integer(name):
    with pytest.raises(ValueError):
        mx.iinfo(dt(name))


def test_finfo_wrong_argument_type():
    with pytest.raises(TypeError):
        mx.finfo(np.float32)


# ------------------------------------------------------------- promotion --
def test_promotion_rule_spot_values():
    # a few table entries spelled out (observed on MLX), guarding the rule
    assert promote("uint8", "int8") == "int16"
    assert promote("uint32", "int32") == "int64"
    assert promote("uint64", "int8") == "float32"
    assert promote("uint64", "uint8") == "uint64"
    assert promote("float16", "bfloat16") == "float32"
    assert promote("int64", "float16") == "float16"
    assert promote("uint64", "bfloat16") == "bfloat16"
    assert promote("bfloat16", "float64") == "float64"
    assert promote("float64", "complex64") == "complex64"
    assert promote("bool_", "int8") == "int8"


@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_binary_promotion_table(a):
    x = mx.zeros((1,), dtype=dt(a))
    for b in DTYPE_NAMES:
        y = mx.zeros((1,), dtype=dt(b))
        want = dt(promote(a, b))
        assert (x + y).dtype == want, (a, b)
        assert (y + x).dtype == want, (b, a)
        assert mx.maximum(x, y).dtype == want, (a, b)


@pytest.mark.parametrize("name", DTYPE_NAMES)
@pytest.mark.parametrize("scalar", [True, 2, 2.0, 1j])
def test_weak_scalar_promotion(name, scalar):
    x = mx.ones((2,), dtype=dt(name))
    want = dt(promote_scalar(name, scalar))
    assert (x * scalar).dtype == want
    assert (scalar * x).dtype == want
    assert (x + scalar).dtype == want


def test_weak_scalar_examples():
    assert (mx.array([1.0], mx.float16) * 2.0).dtype == mx.float16
    assert (mx.array([1], mx.int32) * 2.0).dtype == mx.float32
    assert (mx.array([1], mx.int8) + 1).dtype == mx.int8
    assert (mx.array([1.0], mx.bfloat16) + 1).dtype == mx.bfloat16
    assert (mx.array([True]) + 1).dtype == mx.int32
    assert (mx.array([1], mx.uint8) + True).dtype == mx.uint8
    # numpy scalars are weak too
    assert (mx.array([1.0], mx.float16) + np.float64(1.5)).dtype == mx.float16
    assert (mx.array([1], mx.int8) + np.int64(1)).dtype == mx.int8
    assert (mx.array([1], mx.int32) + np.float64(1.5)).dtype == mx.float32


def test_weak_scalar_values_wrap_in_small_types():
    assert (mx.array([3], mx.int8) * 100).tolist() == [44]
    assert (mx.array([200], mx.uint8) + 100).tolist() == [44]
    assert (mx.array([1], mx.uint8) - 2).tolist() == [255]


@pytest.mark.parametrize("name,value", [("int8", 1000), ("int32", 2 ** 31),
                                        ("uint8", -1), ("int32", 2 ** 40)])
def test_weak_int_scalar_out_of_range_raises(name, value):
    with pytest.raises(ValueError, match="overflow"):
        mx.array([1], dt(name)) + value


def test_comparison_result_is_bool_for_all_pairs():
    for a, b in itertools.product(["bool_", "int8", "uint32", "float16", "float32"], repeat=2):
        r = mx.zeros((1,), dt(a)) < mx.ones((1,), dt(b))
        assert r.dtype == mx.bool_
        assert r.tolist() == [True]
