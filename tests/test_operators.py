"""Python operators on mx.array: arithmetic, bitwise, comparison, reflected
and in-place forms, with broadcasting, against numpy float64 oracles."""
import operator

import numpy as np
import pytest

import mlxc.core as mx
from helpers import REAL_FLOAT_NAMES, assert_close, dt, promote, rand, to_np

ARITH = {
    "+": (operator.add, np.add),
    "-": (operator.sub, np.subtract),
    "*": (operator.mul, np.multiply),
    "/": (operator.truediv, np.true_divide),
    "//": (operator.floordiv, np.floor_divide),
    "%": (operator.mod, np.mod),
    "**": (operator.pow, np.power),
}
SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((4, 1, 3), (2, 1)),
          ((), (2, 2)), ((1,), (3, 1))]


@pytest.mark.parametrize("op", list(ARITH))
@pytest.mark.parametrize("name", REAL_FLOAT_NAMES)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_float_arith_broadcast(op, name, sa, sb):
    pyop, npop = ARITH[op]
    a, na = rand(sa, name, 0.5, 3.0, seed=1)
    b, nb = rand(sb, name, 0.5, 3.0, seed=2)
    if op in ("+", "-"):
        b, nb = rand(sb, name, -3.0, 3.0, seed=2)
    r = pyop(a, b)
    kw = {}
    if op in ("//", "%") and name != "float32":
        kw = dict(atol=0.07)  # rounding of the quotient in half precision
    assert_close(r, npop(na, nb), dtype=name, **kw)




@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64"])
def test_int_floor_div_mod_follow_python(name):
    a = mx.array([7, -7, 7, -7, 0, 5, -1], dt(name))
    b = mx.array([2, 2, -2, -2, 3, -3, 4], dt(name))
    na, nb = to_np(a), to_np(b)
    assert_close(a // b, np.floor_divide(na, nb), dtype=name)
    assert_close(a % b, np.mod(na, nb), dtype=name)
    # true division of ints produces float32
    assert_close(a / b, na / nb, dtype="float32")


def test_int_division_by_zero_does_not_trap():
    # MLX: integer // 0 gives 0 and integer % 0 gives the dividend
    assert (mx.array([1, 0, -5]) // mx.array([0, 0, 0])).tolist() == [0, 0, 0]
    assert (mx.array([1, 0, -5]) % mx.array([0, 0, 0])).tolist() == [1, 0, -5]


def test_float_division_by_zero():
    r = to_np(mx.array([1.0, -1.0, 0.0]) / 0.0)
    assert r[0] == np.inf and r[1] == -np.inf and np.isnan(r[2])
    r = to_np(mx.array([1.0, -1.0, 0.0]) // 0.0)
    assert r[0] == np.inf and r[1] == -np.inf and np.isnan(r[2])
    assert np.isnan(to_np(mx.array([1.0, -1.0]) % 0.0)).all()


def test_float_mod_sign_follows_divisor():
    a = mx.array([7.5, -7.5, 7.5, -7.5])
    b = mx.array([2.0, 2.0, -2.0, -2.0])
    assert (a % b).tolist() == [1.5, 0.5, -0.5, -1.5]
    assert (a // b).tolist() == [3.0, -4.0, -4.0, 3.0]


def test_int_power():
    assert (mx.array([-2, 2, 3]) ** 3).tolist() == [-8, 8, 27]
    assert (mx.array([2, 3]) ** mx.array([3, 2])).tolist() == [8, 9]
    assert (mx.array([0]) ** mx.array([0])).tolist() == [1]
    assert (mx.array([2]) ** -1).tolist() == [0]
    r = mx.array([3], mx.int32) ** 0.5
    assert r.dtype == mx.float32 and abs(r.item() - 3 ** 0.5) < 1e-6
    assert (2 ** mx.array([1, 2])).tolist() == [2, 4]


def test_integer_overflow_wraps():
    assert (mx.array([127], mx.int8) + mx.array([1], mx.int8)).tolist() == [-128]
    assert (mx.array([0], mx.uint16) - mx.array([1], mx.uint16)).tolist() == [65535]


@pytest.mark.parametrize("na,nb", [("int8", "uint8"), ("uint32", "int16"),
                                   ("bool_", "int16"), ("int32", "float16"),
                                   ("float16", "bfloat16"), ("uint64", "int32")])
def test_mixed_dtype_arith_values(na, nb):
    a = mx.array([1, 2, 3], dt(na)) if na != "bool_" else mx.array([True, False, True])
    b = mx.array([4, 5, 6], dt(nb))
    r = a * b + b
    want = to_np(a) * to_np(b) + to_np(b)
    assert_close(r, want, dtype=promote(na, nb))


# ---------------------------------------------------------------- unary --
def test_unary_operators():
    a, na = rand((2, 3), "float32", seed=3)
    assert_close(-a, -na, dtype="float32")
    assert_close(abs(a), np.abs(na), dtype="float32")
    assert_close(+a, na, dtype="float32")
    assert (-mx.array([1, 2])).tolist() == [-1, -2]
    assert (-mx.array([1], mx.uint8)).tolist() == [255]
    assert abs(mx.array([-1], mx.int8)).tolist() == [1]
    assert abs(mx.array([3 + 4j])).tolist() == [5.0]
    assert (~mx.array([0, 1, -5])).tolist() == [-1, -2, 4]
    assert (~mx.array([5], mx.uint8)).tolist() == [250]
    assert (~mx.array([True, False])).tolist() == [False, True]


def test_unary_operator_errors():
    with pytest.raises(ValueError):
        -mx.array([True])
    with pytest.raises(ValueError):
        ~mx.array([1.0])


# -------------------------------------------------------------- bitwise --
BITWISE = {
    "&": (operator.and_, np.bitwise_and),
    "|": (operator.or_, np.bitwise_or),
    "^": (operator.xor, np.bitwise_xor),
    "<<": (operator.lshift, np.left_shift),
    ">>": (operator.rshift, np.right_shift),
}


@pytest.mark.parametrize("op", list(BITWISE))
@pytest.mark.parametrize("name", ["uint8", "uint16", "uint32", "int8", "int16", "int32", "int64"])
def test_bitwise_operators(op, name):
    pyop, npop = BITWISE[op]
    lo = 0 if name.startswith("u") else -50
    a = mx.array(np.linspace(lo, 100, 12).astype(np.int64).reshape(3, 4).tolist(), dt(name))
    if op in ("<<", ">>"):
        b = mx.array([0, 1, 2, 5], dt(name))
    else:
        b = mx.array([0, 3, 12, 100], dt(name))
    na = to_np(a).astype(getattr(np, name))
    nb = to_np(b).astype(getattr(np, name))
    assert_close(pyop(a, b), npop(na, nb).astype(np.int64), dtype=name)
    # with a python int on the right
    assert_close(pyop(a, 1), npop(na, getattr(np, name)(1)).astype(np.int64), dtype=name)


def test_bitwise_bool_and_mixed():
    t, f = mx.array([True, True, False]), mx.array([True, False, False])
    assert (t & f).tolist() == [True, False, False]
    assert (t | f).tolist() == [True, True, False]
    assert (t ^ f).tolist() == [False, True, False]
    assert (t & f).dtype == mx.bool_
    r = mx.array([True]) | mx.array([2])
    assert r.dtype == mx.int32 and r.tolist() == [3]
    assert (mx.array([-16]) >> 2).tolist() == [-4]
    assert (mx.array([-1], mx.int8) >> 1).tolist() == [-1]  # arithmetic shift
    assert (mx.array([1], mx.uint8) << 9).tolist() == [0]


@pytest.mark.parametrize("op", list(BITWISE))
def test_bitwise_rejects_floats(op):
    with pytest.raises(ValueError):
        BITWISE[op][0](mx.array([1.0]), mx.array([1]))


@pytest.mark.parametrize("op", list(BITWISE) + ["@"])
def test_no_reflected_bitwise_or_matmul(op):
    # mx.array has no __rand__/__ror__/__rxor__/__rlshift__/__rrshift__/__rmatmul__
    f = BITWISE[op][0] if op != "@" else operator.matmul
    with pytest.raises(TypeError):
        f(2, mx.array([3, 5]))


# ----------------------------------------------------------- comparison --
CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt,
       "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@pytest.mark.parametrize("op", list(CMP))
def test_comparisons(op):
    a = mx.array([[1.0, 2.0, 3.0], [float("nan"), 0.0, -1.0]])
    b = mx.array([2.0, 2.0, float("nan")])
    r = CMP[op](a, b)
    assert r.dtype == mx.bool_ and r.shape == (2, 3)
    np.testing.assert_array_equal(to_np(r), CMP[op](to_np(a), to_np(b)))
    np.testing.assert_array_equal(to_np(CMP[op](a, 2)), CMP[op](to_np(a), 2))
    np.testing.assert_array_equal(to_np(CMP[op](2, a)), CMP[op](2, to_np(a)))


def test_comparison_mixed_dtypes():
    assert (mx.array([1, 2], mx.int8) == mx.array([1.0, 2.5])).tolist() == [True, False]
    assert (mx.array([1, 2]) != 1.0).tolist() == [False, True]
    assert (mx.array([255], mx.uint8) > mx.array([-1], mx.int8)).tolist() == [True]


# ------------------------------------------------------------ reflected --
@pytest.mark.parametrize("op", list(ARITH))
def test_reflected_arith(op):
    pyop, npop = ARITH[op]
    a = mx.array([1.5, 2.0, 4.0])
    r = pyop(3.0, a)
    assert isinstance(r, mx.array)
    assert_close(r, npop(3.0, to_np(a)), dtype="float32")
    ri = pyop(3, mx.array([1, 2, 4]))
    assert_close(ri, npop(3, np.array([1, 2, 4])) if op != "/" else 3 / np.array([1, 2, 4]),
                 dtype="float32" if op == "/" else "int32")


def test_numpy_scalar_operands():
    r = mx.array([1]) + np.float64(1.5)
    assert isinstance(r, mx.array) and r.dtype == mx.float32 and r.tolist() == [2.5]
    r = mx.array([1.0], mx.float16) + np.float32(1.5)
    assert r.dtype == mx.float16 and r.tolist() == [2.5]


@pytest.mark.parametrize("other", ["a", [1, 2], (1, 2)])
def test_arith_with_unsupported_python_types(other):
    with pytest.raises(ValueError):
        mx.array([1]) + other
    with pytest.raises((ValueError, TypeError)):
        other + mx.array([1])


def test_arith_with_none_is_type_error():
    with pytest.raises(TypeError):
        mx.array([1, 2]) + None


# -------------------------------------------------------------- in-place --
INPLACE = ["+=", "-=", "*=", "//=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>="]


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_int_ops_update_aliases(op):
    x = mx.array([6, 3])
    y = x
    ns = {"x": x}
    exec(f"x {op} 2", ns)
    py = {"+=": lambda v: v + 2, "-=": lambda v: v - 2, "*=": lambda v: v * 2,
          "//=": lambda v: v // 2, "%=": lambda v: v % 2, "**=": lambda v: v ** 2,
          "&=": lambda v: v & 2, "|=": lambda v: v | 2, "^=": lambda v: v ^ 2,
          "<<=": lambda v: v << 2, ">>=": lambda v: v >> 2}[op]
    # MLX in-place operators keep the same Python object: aliases see it
    assert ns["x"] is y
    assert y.tolist() == [py(6), py(3)]
    assert y.dtype == mx.int32


def test_inplace_can_change_dtype():
    x = mx.array([1, 2])
    y = x
    x += 1.5
    assert x is y
    assert y.dtype == mx.float32 and y.tolist() == [2.5, 3.5]


def test_inplace_true_divide():
    x = mx.array([1.0, 2.0])
    y = x
    x /= 4
    assert x is y and y.tolist() == [0.25, 0.5]
    z = mx.array([6, 3])
    with pytest.raises(ValueError):
        z /= 2


def test_inplace_matmul():
    x = mx.array([[1.0, 2.0], [3.0, 4.0]])
    y = x
    x @= x
    assert x is y
    assert y.tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_inplace_does_not_affect_earlier_results():
    x = mx.array([1.0, 2.0])
    z = x * 1  # derived before the in-place op
    x += 10
    assert z.tolist() == [1.0, 2.0]
    assert x.tolist() == [11.0, 12.0]


def test_inplace_broadcast():
    x = mx.zeros((2, 3))
    x += mx.array([1.0, 2.0, 3.0])
    assert x.tolist() == [[1, 2, 3], [1, 2, 3]]


# --------------------------------------------------------------- matmul --
def test_matmul_operator():
    a, na = rand((3, 4), seed=5)
    b, nb = rand((4, 2), seed=6)
    assert_close(a @ b, na @ nb, dtype="float32", rtol=1e-5, atol=1e-5)
    v, nv = rand((4,), seed=7)
    assert_close(a @ v, na @ nv, dtype="float32", rtol=1e-5, atol=1e-5)
    assert_close(v @ v, nv @ nv, dtype="float32", rtol=1e-5, atol=1e-5)


def test_matmul_operator_rejects_ints():
    with pytest.raises(ValueError):
        mx.array([[1, 2]]) @ mx.array([[1], [1]])


def test_broadcast_mismatch_raises():
    with pytest.raises(ValueError):
        mx.array([1, 2, 3]) + mx.array([1, 2])
