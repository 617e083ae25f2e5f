"""Elementwise op constructors: unary and binary functions, where, clip, astype.

Binary ops follow MLX's promotion; a Python scalar is "weak": it takes the array's
dtype when that dtype can hold it (int scalar with an integer or float array, float
scalar with a float array), else the default type of its kind.
"""
from cpython.long cimport PyLong_Check
from cpython.float cimport PyFloat_Check
from cpython.bool cimport PyBool_Check

from mlxc._core.array cimport array, as_array, hooks, new_node, scalar_array
from mlxc._core.dtype cimport Dtype, dtype_of, is_float, is_integral, kind_of, promote, to_dtype
from mlxc._core.kernels cimport *
from mlxc._core.ops.common cimport broadcast_shapes2, on_stream
from mlxc._core.prims.elementwise cimport (FP8, binary_prim, copy_prim, select_prim,
                                           unary_prim)
from mlxc._core.prims.views cimport StopGradient

from mlxc._core.array import _py_hooks

import numpy as np

_BIN_NAMES = ("add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power",
              "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
              "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
              "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "arctan2", "logaddexp")
_UN_NAMES = ("abs", "negative", "sign", "sqrt", "rsqrt", "square", "reciprocal", "exp", "expm1",
             "log", "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
             "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "sigmoid", "erf", "erfinv",
             "floor", "ceil", "round", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
             "logical_not", "bitwise_invert", "conjugate", "real", "imag")


cdef array to_array_like(object x, array like):
    """x as an array for a binary op whose other operand is `like` (weak Python scalars)."""
    cdef int d = like.dtype
    cdef char k = kind_of(d)
    if PyBool_Check(x):
        return scalar_array(x, d)
    if PyLong_Check(x):
        return scalar_array(x, MLXC_INT32 if k == b'b' else d)
    if PyFloat_Check(x):
        return scalar_array(x, d if (k == b'f' or k == b'c') else MLXC_FLOAT32)
    if isinstance(x, complex):
        return scalar_array(x, MLXC_COMPLEX64)
    if isinstance(x, np.generic):              # numpy scalars are weak too, as in MLX
        return to_array_like(x.item(), like)
    if isinstance(x, np.ndarray):
        return as_array(x)
    if x is None:
        raise TypeError(f"Cannot combine an array with None.")
    if hasattr(type(x), "__mlx_array__"):      # MLX's ArrayLike protocol
        return as_array(x)
    raise ValueError(f"Cannot convert {type(x).__name__} {x!r} to an array operand.")


cdef inline bint is_cmp(int op) noexcept:
    return MLXC_EQ <= op <= MLXC_GE


cpdef array binary_op(object a, object b, int op):
    cdef array x, y
    cdef int dt, out_dt
    cdef tuple shape
    if isinstance(a, array):
        x = <array>a
        y = <array>b if isinstance(b, array) else to_array_like(b, x)
    elif isinstance(b, array):
        y = <array>b
        x = to_array_like(a, y)
    else:
        x = as_array(a)
        y = as_array(b)
    dt = promote(x.dtype, y.dtype)
    if op <= MLXC_MINIMUM and op != MLXC_DIV:
        pass                                     # arithmetic keeps the promoted type
    elif op == MLXC_DIV or op == MLXC_ARCTAN2 or op == MLXC_LOGADDEXP:
        if not is_float(dt):
            dt = MLXC_FLOAT32
    elif op >= MLXC_LOGICAL_AND and op <= MLXC_LOGICAL_XOR:
        dt = MLXC_BOOL
    elif op >= MLXC_BITWISE_AND and op <= MLXC_RIGHT_SHIFT:
        if not is_integral(dt):
            raise ValueError(f"[{_BIN_NAMES[op]}] Bitwise operations require integer or boolean "
                             f"inputs, got {dtype_of(x.dtype).name} and "
                             f"{dtype_of(y.dtype).name}.")
        if dt == MLXC_BOOL and op >= MLXC_LEFT_SHIFT:
            dt = MLXC_UINT8
    if kind_of(dt) == b'c':
        if op == MLXC_REMAINDER:
            raise ValueError("[remainder] Complex type not supported.")
        if op == MLXC_ARCTAN2:
            raise ValueError(f"[{_BIN_NAMES[op]}] Not supported for complex64.")
        if op == MLXC_FLOOR_DIV:
            op = MLXC_DIV                    # as MLX: no floor for complex
        elif MLXC_LT <= op <= MLXC_GE or op == MLXC_MAXIMUM or op == MLXC_MINIMUM:
            return _complex_order(astype_op(x, dt), astype_op(y, dt), op)
        elif op == MLXC_LOGADDEXP:
            # the larger (in MLX's order) plus log1p(exp(smaller - larger))
            x = astype_op(x, dt)
            y = astype_op(y, dt)
            hi = _complex_order(x, y, MLXC_MAXIMUM)
            lo = _complex_order(x, y, MLXC_MINIMUM)
            return binary_op(hi, unary_op(unary_op(binary_op(lo, hi, MLXC_SUB), MLXC_EXP),
                                          MLXC_LOG1P), MLXC_ADD)
    if x.dtype != dt:
        x = astype_op(x, dt)
    if y.dtype != dt:
        y = astype_op(y, dt)
    if x._shape is y._shape:
        shape = x._shape
    else:
        shape = broadcast_shapes2(x._shape, y._shape, _BIN_NAMES[op])
    out_dt = MLXC_BOOL if is_cmp(op) else dt
    return new_node(out_dt, shape, binary_prim(op), (x, y))


cdef array _complex_order(array x, array y, int op):
    """Comparisons, maximum and minimum of complex64 as MLX orders it: by real part, then
    imaginary part (IEEE comparisons on each, so NaN compares false); maximum/minimum
    return a NaN operand when there is one."""
    cdef array rx = unary_op(x, MLXC_REAL), ix = unary_op(x, MLXC_IMAG)
    cdef array ry = unary_op(y, MLXC_REAL), iy = unary_op(y, MLXC_IMAG)
    cdef array same = binary_op(rx, ry, MLXC_EQ)
    if op == MLXC_MAXIMUM or op == MLXC_MINIMUM:
        lt = _complex_order(x, y, MLXC_LT if op == MLXC_MAXIMUM else MLXC_GT)
        r = where(lt, y, x)
        r = where(unary_op(y, MLXC_ISNAN), y, r)
        return where(unary_op(x, MLXC_ISNAN), x, r)
    cdef int strict = MLXC_LT if op <= MLXC_LE else MLXC_GT
    return binary_op(binary_op(rx, ry, strict),
                     binary_op(same, binary_op(ix, iy, op), MLXC_LOGICAL_AND), MLXC_LOGICAL_OR)


cdef array _complex_from(array re, array im):
    """re + i im without arithmetic (inf parts stay exact): the pair viewed as complex64."""
    import mlxc.core as mx
    return mx.reshape(mx.stack([re, im], axis=-1).view(mx.complex64), re.shape)


cdef array _complex_unary(array x, int op):
    """The unary ops MLX has for complex64 that the kernels do not."""
    import mlxc.core as mx
    cdef array re = unary_op(x, MLXC_REAL), im = unary_op(x, MLXC_IMAG)
    if op == MLXC_ROUND:
        return _complex_from(unary_op(re, MLXC_ROUND), unary_op(im, MLXC_ROUND))
    # log1p(z) = log|1 + z| + i arg(1 + z), with log|1 + z| = log1p(2x + x^2 + y^2) / 2
    # accurate near 0; the derivative is log(1 + z)'s, 1 / (1 + z).
    val = _complex_from(mx.log1p(re * (re + 2.0) + im * im) * 0.5, mx.arctan2(im, re + 1.0))
    plain = mx.log(x + 1.0)
    return plain + mx.stop_gradient(val - plain)


cpdef array unary_op(object a, int op):
    cdef array x = as_array(a)
    cdef int dt = x.dtype, out_dt
    cdef char k = kind_of(dt)
    name = _UN_NAMES[op]
    if op == MLXC_LOGICAL_NOT:
        if dt != MLXC_BOOL:
            x = astype_op(x, MLXC_BOOL)
        return new_node(MLXC_BOOL, x._shape, unary_prim(op), (x,))
    if op == MLXC_BITWISE_INVERT:
        if not is_integral(dt):
            raise ValueError(f"[bitwise_invert] Bitwise inverse only allowed on integer types, "
                             f"got {dtype_of(dt).name}.")
        return new_node(dt, x._shape, unary_prim(op), (x,))
    if MLXC_ISNAN <= op <= MLXC_ISNEGINF:
        if k == b'c' and op >= MLXC_ISPOSINF:
            # as MLX: only +-inf + 0j itself
            inf = float("inf") if op == MLXC_ISPOSINF else float("-inf")
            return binary_op(x, scalar_array(complex(inf, 0.0), MLXC_COMPLEX64), MLXC_EQ)
        if not is_float(dt):
            from mlxc._core.ops.creation import full
            return full(x.shape, op == MLXC_ISFINITE, dtype_of(MLXC_BOOL))
        return new_node(MLXC_BOOL, x._shape, unary_prim(op), (x,))
    if MLXC_FLOOR <= op <= MLXC_ROUND:
        if k == b'c':
            if op == MLXC_ROUND:
                return _complex_unary(x, op)
            raise ValueError(f"[{name}] Not supported for complex64.")
        if not is_float(dt):
            return x
        return new_node(dt, x._shape, unary_prim(op), (x,))
    if op == MLXC_CONJ or op == MLXC_REAL:
        if k != b'c':
            return x
        return new_node(dt if op == MLXC_CONJ else MLXC_FLOAT32, x._shape, unary_prim(op), (x,))
    if op == MLXC_IMAG:
        if k != b'c':
            from mlxc._core.ops.creation import zeros_like
            return zeros_like(x)
        return new_node(MLXC_FLOAT32, x._shape, unary_prim(op), (x,))
    if op == MLXC_NEG and dt == MLXC_BOOL:
        raise ValueError("[negative] Not supported for bool, use logical_not instead.")
    if op == MLXC_ABS or op == MLXC_NEG or op == MLXC_SIGN or op == MLXC_SQUARE:
        if op == MLXC_ABS and k == b'c':
            return new_node(MLXC_FLOAT32, x._shape, unary_prim(op), (x,))
        if op == MLXC_ABS and (dt == MLXC_BOOL or k == b'u'):
            return x
        return new_node(dt, x._shape, unary_prim(op), (x,))
    if k == b'c':
        if op == MLXC_LOG1P:
            return _complex_unary(x, op)
        if op == MLXC_EXPM1 or op == MLXC_SIGMOID or op == MLXC_ERF or op == MLXC_ERFINV:
            raise ValueError(f"[{name}] Not supported for complex64.")
    # Float functions: integers compute in float32.
    if not is_float(dt):
        x = astype_op(x, MLXC_FLOAT32)
        dt = MLXC_FLOAT32
    return new_node(dt, x._shape, unary_prim(op), (x,))


cpdef array astype_op(object a, int dtype):
    cdef array x = as_array(a)
    if x.dtype == dtype:
        return x
    return new_node(dtype, x._shape, copy_prim(), (x,))


cpdef array contiguous_op(array a):
    return new_node(a.dtype, a._shape, copy_prim(), (a,))


cdef object _binary_hook(object a, object b, int op):
    if a is None or b is None:
        return NotImplemented          # Python then raises TypeError, as MLX does
    return binary_op(a, b, op)


cdef object _unary_hook(object a, int op):
    return unary_op(a, op)

hooks().binary = _binary_hook
hooks().unary = _unary_hook


# ---------------------------------------------------------------- public functions

def add(a, b, stream=None):
    """add(a: scalar | array, b: scalar | array, stream=None) -> array: element-wise a + b."""
    scope = on_stream(stream, "add")
    return binary_op(a, b, MLXC_ADD)

def subtract(a, b, stream=None):
    """Element-wise a - b."""
    scope = on_stream(stream, "subtract")
    return binary_op(a, b, MLXC_SUB)

def multiply(a, b, stream=None):
    """Element-wise a * b."""
    scope = on_stream(stream, "multiply")
    return binary_op(a, b, MLXC_MUL)

def divide(a, b, stream=None):
    """Element-wise true division; integers divide in float32."""
    scope = on_stream(stream, "divide")
    return binary_op(a, b, MLXC_DIV)

def floor_divide(a, b, stream=None):
    """Element-wise division rounded toward negative infinity."""
    scope = on_stream(stream, "floor_divide")
    return binary_op(a, b, MLXC_FLOOR_DIV)

def remainder(a, b, stream=None):
    """Element-wise remainder with the sign of the divisor (Python's %)."""
    scope = on_stream(stream, "remainder")
    return binary_op(a, b, MLXC_REMAINDER)

def divmod(a, b, stream=None):
    """divmod(a, b) -> (floor_divide(a, b), remainder(a, b))."""
    scope = on_stream(stream, "divmod")
    return (binary_op(a, b, MLXC_FLOOR_DIV), binary_op(a, b, MLXC_REMAINDER))

def power(a, b, stream=None):
    """Element-wise a ** b."""
    scope = on_stream(stream, "power")
    return binary_op(a, b, MLXC_POWER)

def maximum(a, b, stream=None):
    """Element-wise maximum (NaN propagates)."""
    scope = on_stream(stream, "maximum")
    return binary_op(a, b, MLXC_MAXIMUM)

def minimum(a, b, stream=None):
    """Element-wise minimum (NaN propagates)."""
    scope = on_stream(stream, "minimum")
    return binary_op(a, b, MLXC_MINIMUM)

def equal(a, b, stream=None):
    scope = on_stream(stream, "equal")
    return binary_op(a, b, MLXC_EQ)

def not_equal(a, b, stream=None):
    scope = on_stream(stream, "not_equal")
    return binary_op(a, b, MLXC_NE)

def less(a, b, stream=None):
    scope = on_stream(stream, "less")
    return binary_op(a, b, MLXC_LT)

def less_equal(a, b, stream=None):
    scope = on_stream(stream, "less_equal")
    return binary_op(a, b, MLXC_LE)

def greater(a, b, stream=None):
    scope = on_stream(stream, "greater")
    return binary_op(a, b, MLXC_GT)

def greater_equal(a, b, stream=None):
    scope = on_stream(stream, "greater_equal")
    return binary_op(a, b, MLXC_GE)

def logical_and(a, b, stream=None):
    scope = on_stream(stream, "logical_and")
    return binary_op(a, b, MLXC_LOGICAL_AND)

def logical_or(a, b, stream=None):
    scope = on_stream(stream, "logical_or")
    return binary_op(a, b, MLXC_LOGICAL_OR)

def logical_xor(a, b, stream=None):
    scope = on_stream(stream, "logical_xor")
    return binary_op(a, b, MLXC_LOGICAL_XOR)

def bitwise_and(a, b, stream=None):
    scope = on_stream(stream, "bitwise_and")
    return _bitwise(a, b, MLXC_BITWISE_AND)

def bitwise_or(a, b, stream=None):
    scope = on_stream(stream, "bitwise_or")
    return _bitwise(a, b, MLXC_BITWISE_OR)

def bitwise_xor(a, b, stream=None):
    scope = on_stream(stream, "bitwise_xor")
    return _bitwise(a, b, MLXC_BITWISE_XOR)

def left_shift(a, b, stream=None):
    scope = on_stream(stream, "left_shift")
    return _bitwise(a, b, MLXC_LEFT_SHIFT)

def right_shift(a, b, stream=None):
    scope = on_stream(stream, "right_shift")
    return _bitwise(a, b, MLXC_RIGHT_SHIFT)

cdef array _bitwise(object a, object b, int op):
    # MLX's function forms report a non-integer input as RuntimeError.
    try:
        return binary_op(a, b, op)
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def arctan2(a, b, stream=None):
    scope = on_stream(stream, "arctan2")
    return binary_op(a, b, MLXC_ARCTAN2)

def logaddexp(a, b, stream=None):
    """Element-wise log(exp(a) + exp(b)), computed stably."""
    scope = on_stream(stream, "logaddexp")
    return binary_op(a, b, MLXC_LOGADDEXP)


def _unary(int op):
    name = _UN_NAMES[op]
    def f(a, /, *, stream=None):
        scope = on_stream(stream, name)
        return unary_op(a, op)
    f.__name__ = f.__qualname__ = _UN_NAMES[op]
    f.__doc__ = f"{_UN_NAMES[op]}(a: array, /, *, stream=None) -> array: element-wise."
    return f

abs = _unary(MLXC_ABS)
negative = _unary(MLXC_NEG)
sign = _unary(MLXC_SIGN)
sqrt = _unary(MLXC_SQRT)
rsqrt = _unary(MLXC_RSQRT)
square = _unary(MLXC_SQUARE)
reciprocal = _unary(MLXC_RECIPROCAL)
exp = _unary(MLXC_EXP)
expm1 = _unary(MLXC_EXPM1)
log = _unary(MLXC_LOG)
log1p = _unary(MLXC_LOG1P)
log2 = _unary(MLXC_LOG2)
log10 = _unary(MLXC_LOG10)
sin = _unary(MLXC_SIN)
cos = _unary(MLXC_COS)
tan = _unary(MLXC_TAN)
arcsin = _unary(MLXC_ARCSIN)
arccos = _unary(MLXC_ARCCOS)
arctan = _unary(MLXC_ARCTAN)
sinh = _unary(MLXC_SINH)
cosh = _unary(MLXC_COSH)
tanh = _unary(MLXC_TANH)
arcsinh = _unary(MLXC_ARCSINH)
arccosh = _unary(MLXC_ARCCOSH)
arctanh = _unary(MLXC_ARCTANH)
sigmoid = _unary(MLXC_SIGMOID)
erf = _unary(MLXC_ERF)
erfinv = _unary(MLXC_ERFINV)
floor = _unary(MLXC_FLOOR)
ceil = _unary(MLXC_CEIL)
isnan = _unary(MLXC_ISNAN)
isinf = _unary(MLXC_ISINF)
isfinite = _unary(MLXC_ISFINITE)
isposinf = _unary(MLXC_ISPOSINF)
isneginf = _unary(MLXC_ISNEGINF)
logical_not = _unary(MLXC_LOGICAL_NOT)
bitwise_invert = _unary(MLXC_BITWISE_INVERT)
conjugate = _unary(MLXC_CONJ)
conj = conjugate
real = _unary(MLXC_REAL)
imag = _unary(MLXC_IMAG)


def positive(a, stream=None):
    """Element-wise +a (the array itself)."""
    scope = on_stream(stream, "positive")
    return as_array(a)


def round(a, decimals=0, stream=None):
    """round(a: array, /, decimals: int = 0, stream=None) -> array: half to even."""
    scope = on_stream(stream, "round")
    cdef array x = as_array(a)
    if not isinstance(decimals, int):
        raise TypeError(f"[round] decimals must be an integer, got {decimals!r}.")
    if decimals == 0 or (decimals > 0 and not is_float(x.dtype)):
        return unary_op(x, MLXC_ROUND)
    if not is_float(x.dtype):          # integers round to tens, hundreds ... in float32
        return astype_op(round(astype_op(x, MLXC_FLOAT32), decimals), x.dtype)
    if decimals > 308:            # finer than any float's resolution: the values stay
        return binary_op(x, scalar_array(1, x.dtype), MLXC_MUL)
    if decimals < -308:           # coarser than any float's range: zeros (NaN stays NaN)
        return binary_op(x, scalar_array(0, x.dtype), MLXC_MUL)
    s = scalar_array(10.0 ** decimals, x.dtype)
    return binary_op(unary_op(binary_op(x, s, MLXC_MUL), MLXC_ROUND), s, MLXC_DIV)


def degrees(a, stream=None):
    """Convert angles from radians to degrees."""
    scope = on_stream(stream, "degrees")
    return binary_op(a, 57.29577951308232, MLXC_MUL)


def radians(a, stream=None):
    """Convert angles from degrees to radians."""
    scope = on_stream(stream, "radians")
    return binary_op(a, 0.017453292519943295, MLXC_MUL)


cdef bint _real_float(int dt) noexcept:
    return dt == MLXC_FLOAT16 or dt == MLXC_BFLOAT16 or dt == MLXC_FLOAT32 or dt == MLXC_FLOAT64


def to_fp8(x, *, stream=None):
    """to_fp8(x: array, *, stream: StreamOrDevice = None) -> array

    Convert a floating array to float8 e4m3 codes (uint8): round to nearest even; values
    past +-448, infinities and NaN saturate to +-448, as in MLX."""
    scope = on_stream(stream, "to_fp8")
    cdef array a = as_array(x)
    if not _real_float(a.dtype):
        raise ValueError(f"[to_fp8] Only real floating types are supported but x.dtype() == "
                         f"{dtype_of(a.dtype).name}.")
    return new_node(MLXC_UINT8, a._shape, FP8(True), (a,))


def from_fp8(x, dtype=dtype_of(MLXC_BFLOAT16), *, stream=None):
    """from_fp8(x: array, dtype: Dtype = bfloat16, *, stream: StreamOrDevice = None) -> array

    Convert float8 e4m3 codes (uint8) to a floating type (exact)."""
    scope = on_stream(stream, "from_fp8")
    cdef array a = as_array(x)
    cdef int dt = MLXC_BFLOAT16 if dtype is None else to_dtype(dtype).code
    if a.dtype != MLXC_UINT8:
        raise ValueError(f"[from_fp8] Input must have type uint8 but x.dtype() == "
                         f"{dtype_of(a.dtype).name}.")
    if not _real_float(dt):
        raise ValueError(f"[from_fp8] Only real floating types are supported but dtype == "
                         f"{dtype_of(dt).name}.")
    return new_node(dt, a._shape, FP8(False), (a,))


def astype(a, dtype, stream=None):
    """astype(a: array, dtype: Dtype, /, *, stream=None) -> array."""
    scope = on_stream(stream, "astype")
    return astype_op(as_array(a), to_dtype(dtype).code)


def where(condition, x, y, stream=None):
    """where(condition, x, y, /, *, stream=None) -> array: x where condition else y."""
    scope = on_stream(stream, "where")
    cdef array c, a, b
    if isinstance(x, array):
        a = <array>x
        b = <array>y if isinstance(y, array) else to_array_like(y, a)
    elif isinstance(y, array):
        b = <array>y
        a = to_array_like(x, b)
    else:
        a = as_array(x)
        b = as_array(y)
    c = as_array(condition)
    dt = promote(a.dtype, b.dtype)
    a = astype_op(a, dt)
    b = astype_op(b, dt)
    if c.dtype != MLXC_BOOL:
        c = astype_op(c, MLXC_BOOL)
    shape = broadcast_shapes2(broadcast_shapes2(c._shape, a._shape, "where"), b._shape, "where")
    return new_node(dt, shape, select_prim(), (c, a, b))


def clip(a, a_min, a_max, stream=None):
    """clip(a: array, /, a_min, a_max, *, stream=None) -> array."""
    scope = on_stream(stream, "clip")
    if a_min is None and a_max is None:
        raise ValueError("[clip] At most one of a_min and a_max may be None.")
    cdef array x = as_array(a)
    if a_min is not None:
        x = binary_op(x, a_min, MLXC_MAXIMUM)
    if a_max is not None:
        x = binary_op(x, a_max, MLXC_MINIMUM)
    return x


def stop_gradient(a, stream=None):
    """stop_gradient(a: array, /, *, stream=None) -> array: a, with no gradient flowing back."""
    scope = on_stream(stream, "stop_gradient")
    cdef array x = as_array(a)
    return new_node(x.dtype, x._shape, StopGradient(), (x,))


def nan_to_num(a, nan=0.0, posinf=None, neginf=None, stream=None):
    """Replace NaN and infinities with finite numbers."""
    scope = on_stream(stream, "nan_to_num")
    from mlxc._core.dtype import finfo
    cdef array x = as_array(a)
    if not is_float(x.dtype):
        return x
    info = finfo(dtype_of(x.dtype))
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    x = where(unary_op(x, MLXC_ISNAN), nan, x)
    x = where(unary_op(x, MLXC_ISPOSINF), posinf, x)
    return where(unary_op(x, MLXC_ISNEGINF), neginf, x)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False, stream=None):
    """|a - b| <= atol + rtol * |b| element-wise (infinities equal when they match)."""
    scope = on_stream(stream, "isclose")
    x, y = as_array(a), as_array(b)
    diff = unary_op(binary_op(x, y, MLXC_SUB), MLXC_ABS)
    tol = binary_op(binary_op(unary_op(y, MLXC_ABS), rtol, MLXC_MUL), atol, MLXC_ADD)
    close = binary_op(binary_op(diff, tol, MLXC_LE), binary_op(x, y, MLXC_EQ), MLXC_LOGICAL_OR)
    if equal_nan:
        both = binary_op(unary_op(x, MLXC_ISNAN), unary_op(y, MLXC_ISNAN), MLXC_LOGICAL_AND)
        close = binary_op(close, both, MLXC_LOGICAL_OR)
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False, stream=None):
    """all(isclose(a, b, ...)) as a 0-d bool array."""
    scope = on_stream(stream, "allclose")
    from mlxc._core.ops.reduce import all as all_
    return all_(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a, b, equal_nan=False, stream=None):
    """True when a and b have the same shape and equal values (any dtypes)."""
    scope = on_stream(stream, "array_equal")
    from mlxc._core.ops.reduce import all as all_
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape:
        return scalar_array(False, MLXC_BOOL)
    eq = binary_op(x, y, MLXC_EQ)
    if equal_nan and (is_float(x.dtype) or is_float(y.dtype)):
        eq = binary_op(eq, binary_op(unary_op(x, MLXC_ISNAN), unary_op(y, MLXC_ISNAN),
                                     MLXC_LOGICAL_AND), MLXC_LOGICAL_OR)
    return all_(eq)
