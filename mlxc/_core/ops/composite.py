"""Ops that MLX defines in terms of other ops: diff, kron, trunc, vecdot, matrix_transpose,
the window functions, and the dtype queries (can_cast, result_type, isdtype).

They are built from mlxc ops, so they are lazy and every transform goes through the ops
they are made of.
"""
import math
from operator import index as _index

import mlxc.core as mx
from mlxc._core.dtype import Dtype, promote_types
from mlxc._core.ops.common import integer_argument, stream_scope

__all__ = ["diff", "kron", "trunc", "vecdot", "matrix_transpose", "bartlett", "blackman",
           "hamming", "hanning", "can_cast", "result_type", "isdtype"]

_INT64_MAX = 2**63 - 1
_int = integer_argument        # an integer argument within int64, or TypeError/OverflowError


def _axis(v, op):
    """An integer axis; any value out of range is then an IndexError (no range check)."""
    try:
        return _index(v)
    except TypeError:
        raise TypeError(f"[{op}] axis must be an integer, got {v!r}.") from None


def diff(a, /, n=1, axis=-1, *, stream=None):
    """diff(a: array, /, n: int = 1, axis: int = -1, *, stream: StreamOrDevice = None) -> array

    The n-th discrete difference along the given axis."""
    with stream_scope(stream, "diff"):
        x = mx.asarray(a)
        n = _int(n, "diff", "n")
        axis = _axis(axis, "diff")
        if n < 0:
            raise ValueError(f"[diff] Order `n` must be non-negative, got {n}.")
        if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
            raise IndexError(f"[diff] Axis {axis} is out of bounds for an array with {x.ndim} "
                             f"dimensions.")
        ax = axis % x.ndim
        length = x.shape[ax]
        if n >= length:
            # Every difference of order >= length is empty (and the loop below would be long).
            n = min(n, length)
        lo = [slice(None)] * x.ndim
        hi = [slice(None)] * x.ndim
        lo[ax] = slice(None, -1)
        hi[ax] = slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        for _ in range(n):
            # bool differences are "changed or not", as numpy and MLX compute them
            x = (mx.not_equal(x[hi], x[lo]) if x.dtype == mx.bool_
                 else mx.subtract(x[hi], x[lo]))
        return x


def kron(a, b, *, stream=None):
    """kron(a: array, b: array, *, stream: StreamOrDevice = None) -> array

    The Kronecker product of a and b."""
    with stream_scope(stream, "kron"):
        x, y = mx.asarray(a), mx.asarray(b)
        nd = max(x.ndim, y.ndim)
        xs = (1,) * (nd - x.ndim) + x.shape
        ys = (1,) * (nd - y.ndim) + y.shape
        # out[i * ys + j] = x[i] * y[j]: interleave the axes of x and y, then merge each pair.
        inter_x = tuple(d for s in xs for d in (s, 1))
        inter_y = tuple(d for s in ys for d in (1, s))
        shape = tuple(p * q for p, q in zip(xs, ys))
        size = math.prod(shape)
        if size > _INT64_MAX:
            raise OverflowError(f"[kron] The product of shapes {x.shape} and {y.shape} has "
                                f"{size} elements, more than 2**63 - 1.")
        prod = mx.multiply(mx.reshape(x, inter_x), mx.reshape(y, inter_y))
        return mx.reshape(prod, shape)


def trunc(a, /, *, stream=None):
    """trunc(a: array, /, *, stream: StreamOrDevice = None) -> array

    Element-wise truncation towards zero."""
    with stream_scope(stream, "trunc"):
        x = mx.asarray(a)
        if x.dtype == mx.complex64:
            raise ValueError(f"[trunc] Not supported for {x.dtype.name}.")
        if not mx.issubdtype(x.dtype, mx.floating):
            return x                      # integers and bools are already whole
        return mx.where(x < 0, mx.ceil(x), mx.floor(x))


def matrix_transpose(a, /, *, stream=None):
    """matrix_transpose(a: array, /, *, stream: StreamOrDevice = None) -> array

    Transpose the last two dimensions of the array."""
    with stream_scope(stream, "matrix_transpose"):
        x = mx.asarray(a)
        if x.ndim < 2:
            raise ValueError(f"[matrix_transpose] Input array must have at least 2 dimensions, "
                             f"got {x.ndim}.")
        return mx.swapaxes(x, -1, -2)


def vecdot(a, b, /, *, axis=-1, stream=None):
    """vecdot(a: array, b: array, /, *, axis: int = -1, stream: StreamOrDevice = None) -> array

    The vector dot product sum(conj(a) * b) along an axis; the other axes broadcast."""
    with stream_scope(stream, "vecdot"):
        x, y = mx.asarray(a), mx.asarray(b)
        axis = _axis(axis, "vecdot")
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("[vecdot] inputs must be at least 1D.")
        if not -x.ndim <= axis < x.ndim:
            raise IndexError(f"[vecdot] axis {axis} is out of bounds for an array with {x.ndim} "
                             f"dimensions.")
        if x.ndim != y.ndim:
            # MLX requires equal ranks (the axis names the same dimension of both).
            raise ValueError(f"[vecdot] axis is out of bounds: a has {x.ndim} dimensions and b "
                             f"has {y.ndim}.")
        if x.shape[axis] != y.shape[axis]:
            raise ValueError(f"[vecdot] a and b must have the same size along axis {axis}, got "
                             f"{x.shape[axis]} and {y.shape[axis]}.")
        if x.dtype == mx.complex64:
            x = mx.conj(x)
        return mx.sum(mx.multiply(x, y), axis=axis)


# ---------------------------------------------------------------- windows

def _window(M, name, f):
    """f(n, M) on n = 0 .. M-1, computed in float64 and returned as float32 (numpy's
    formulas, rounded once); M <= 0 gives an empty window and M == 1 a single one."""
    M = _int(M, name, "M")
    if M > _INT64_MAX // 8:                # the float64 intermediate's bytes
        raise OverflowError(f"[{name}] M {M} is too large: the window would take more than "
                            f"2**63 - 1 bytes.")
    if M < 1:
        return mx.zeros((0,), mx.float32)
    if M == 1:
        return mx.ones((1,), mx.float32)
    n = mx.arange(M, dtype=mx.float64)
    return f(n, M).astype(mx.float32)


def bartlett(M, *, stream=None):
    """bartlett(M: int, *, stream: StreamOrDevice = None) -> array

    The Bartlett (triangular) window: 1 - |2n/(M-1) - 1|."""
    with stream_scope(stream, "bartlett"):
        return _window(M, "bartlett", lambda n, M: 1.0 - mx.abs(n * (2.0 / (M - 1)) - 1.0))


def hanning(M, *, stream=None):
    """hanning(M: int, *, stream: StreamOrDevice = None) -> array

    The Hanning window: 0.5 - 0.5 cos(2 pi n / (M-1))."""
    with stream_scope(stream, "hanning"):
        return _window(M, "hanning",
                       lambda n, M: 0.5 - 0.5 * mx.cos(n * (2.0 * math.pi / (M - 1))))


def hamming(M, *, stream=None):
    """hamming(M: int, *, stream: StreamOrDevice = None) -> array

    The Hamming window: 0.54 - 0.46 cos(2 pi n / (M-1))."""
    with stream_scope(stream, "hamming"):
        return _window(M, "hamming",
                       lambda n, M: 0.54 - 0.46 * mx.cos(n * (2.0 * math.pi / (M - 1))))


def blackman(M, *, stream=None):
    """blackman(M: int, *, stream: StreamOrDevice = None) -> array

    The Blackman window: 0.42 - 0.5 cos(2 pi n/(M-1)) + 0.08 cos(4 pi n/(M-1))."""
    with stream_scope(stream, "blackman"):
        def f(n, M):
            t = n * (2.0 * math.pi / (M - 1))
            return 0.42 - 0.5 * mx.cos(t) + 0.08 * mx.cos(2.0 * t)
        return _window(M, "blackman", f)


# ---------------------------------------------------------------- dtype queries

def _dtype_of(x, op, what):
    if isinstance(x, Dtype):
        return x
    if isinstance(x, mx.array):
        return x.dtype
    raise ValueError(f"[{op}] {what} must be an array or a dtype, got {type(x).__name__}.")


def can_cast(from_, to):
    """can_cast(from_: array | Dtype, to: Dtype) -> bool

    Whether promoting from_ with to gives back to."""
    src = _dtype_of(from_, "can_cast", "`from_`")
    if not isinstance(to, Dtype):
        raise TypeError(f"[can_cast] `to` must be a Dtype, got {type(to).__name__}.")
    return promote_types(src, to) == to


def result_type(*arrays_and_dtypes):
    """result_type(*arrays_and_dtypes: array | Dtype) -> Dtype

    The type that results from applying type promotion to the inputs."""
    if not arrays_and_dtypes:
        raise ValueError("[result_type] At least one array or dtype is required.")
    out = None
    for x in arrays_and_dtypes:
        if not isinstance(x, (Dtype, mx.array)):
            raise ValueError(f"[result_type] Inputs must be arrays or dtypes, got "
                             f"{type(x).__name__}.")
        d = _dtype_of(x, "result_type", "inputs")
        out = d if out is None else promote_types(out, d)
    return out


_KINDS = {
    "bool": lambda d: d == mx.bool_,
    "signed integer": lambda d: mx.issubdtype(d, mx.signedinteger),
    "unsigned integer": lambda d: mx.issubdtype(d, mx.unsignedinteger),
    "integral": lambda d: mx.issubdtype(d, mx.integer),
    "real floating": lambda d: mx.issubdtype(d, mx.floating),
    "complex floating": lambda d: mx.issubdtype(d, mx.complexfloating),
    "numeric": lambda d: d != mx.bool_,
}


def _is_kind(dtype, kind):
    if isinstance(kind, Dtype):
        return dtype == kind
    if isinstance(kind, str):
        test = _KINDS.get(kind)
        if test is None:
            raise ValueError(f"[isdtype] Unknown data type kind: {kind!r}.")
        return test(dtype)
    raise ValueError("[isdtype] `kind` must be a dtype, a string, or a tuple of dtypes and "
                     f"strings, got {kind!r}.")


def isdtype(dtype, kind):
    """isdtype(dtype: Dtype, kind: Dtype | str | tuple[Dtype | str, ...]) -> bool

    Whether dtype belongs to one of the kinds ("bool", "signed integer", "unsigned
    integer", "integral", "real floating", "complex floating", "numeric") or dtypes."""
    if not isinstance(dtype, Dtype):
        raise TypeError(f"[isdtype] dtype must be a Dtype, got {type(dtype).__name__}.")
    if isinstance(kind, tuple):
        # the first match answers (later entries are not checked), as in MLX
        return any(_is_kind(dtype, k) for k in kind)
    return _is_kind(dtype, kind)
