"""Array creation: zeros, ones, full, arange, linspace, eye, tri, meshgrid ..."""
import math

from cpython.long cimport PyLong_Check

import numpy as np

from mlxc._core.array cimport array, as_array, new_node, scalar_array
from mlxc._core.dlpack cimport import_dlpack
from mlxc._core.dtype cimport dtype_of, is_float, kind_of, promote, to_dtype
from mlxc._core.kernels cimport *
from mlxc._core.ops.common cimport check_int_range, check_shape, int_arg, on_stream
from mlxc._core.ops.elementwise cimport astype_op, binary_op, to_array_like
from mlxc._core.ops.shape cimport reshape_op
from mlxc._core.prims.elementwise cimport Arange, copy_prim, select_prim

from mlxc._core.array import array as _array_cls


cdef int _dtype_code(object dtype, int default) except -1:
    return default if dtype is None else to_dtype(dtype).code


def full(shape, vals, dtype=None, *, stream=None):
    """full(shape: int | Sequence[int], vals: scalar | array, dtype=None, *, stream=None)"""
    scope = on_stream(stream, "full")
    shape = check_shape(shape, "full")
    cdef array v
    if isinstance(vals, array):
        v = <array>vals                # MLX ignores dtype for an array value
    elif dtype is not None:
        # A Python scalar is weak against the requested dtype (MLX promotes the two).
        v = _weak_scalar(vals, to_dtype(dtype).code)
    else:
        v = as_array(vals)
    from mlxc._core.ops.shape import broadcast_to
    broadcast_to(v, shape)   # validates that vals broadcasts to shape
    return new_node(v.dtype, shape, copy_prim(), (v,))


cdef array _weak_scalar(object val, int dtype):
    """val as an array of dtype, or of the promoted type when dtype cannot hold it."""
    cdef array like = scalar_array(0, dtype)
    cdef array v = to_array_like(val, like)
    cdef int dt = promote(v.dtype, dtype)
    return astype_op(v, dt)


def zeros(shape, dtype=None, *, stream=None):
    """zeros(shape: int | Sequence[int], dtype: Dtype | None = float32, *, stream=None)"""
    scope = on_stream(stream, "zeros")
    shape = check_shape(shape, "zeros")
    return new_node(_dtype_code(dtype, MLXC_FLOAT32), shape, copy_prim(),
                    (scalar_array(0, _dtype_code(dtype, MLXC_FLOAT32)),))


def ones(shape, dtype=None, *, stream=None):
    """ones(shape: int | Sequence[int], dtype: Dtype | None = float32, *, stream=None)"""
    scope = on_stream(stream, "ones")
    shape = check_shape(shape, "ones")
    return new_node(_dtype_code(dtype, MLXC_FLOAT32), shape, copy_prim(),
                    (scalar_array(1, _dtype_code(dtype, MLXC_FLOAT32)),))


def zeros_like(a, /, dtype=None, *, stream=None):
    """zeros_like(a: array, /, dtype=None, *, stream=None): zeros with a's shape (and dtype)."""
    scope = on_stream(stream, "zeros_like")
    cdef array x = as_array(a)
    cdef int dt = _dtype_code(dtype, x.dtype)
    return new_node(dt, x._shape, copy_prim(), (scalar_array(0, dt),))


def ones_like(a, /, dtype=None, *, stream=None):
    """ones_like(a: array, /, dtype=None, *, stream=None): ones with a's shape (and dtype)."""
    scope = on_stream(stream, "ones_like")
    cdef array x = as_array(a)
    cdef int dt = _dtype_code(dtype, x.dtype)
    return new_node(dt, x._shape, copy_prim(), (scalar_array(1, dt),))


def full_like(a, vals, dtype=None, *, stream=None):
    """full_like(a: array, vals: scalar | array, dtype=None, *, stream=None)"""
    scope = on_stream(stream, "full_like")
    cdef array x = as_array(a)
    cdef int dt = _dtype_code(dtype, x.dtype)
    cdef array v = <array>vals if isinstance(vals, array) else _weak_scalar(vals, dt)
    v = astype_op(v, dt)
    from mlxc._core.ops.shape import broadcast_to
    broadcast_to(v, x._shape)
    return new_node(dt, x._shape, copy_prim(), (v,))


def arange(*args, start=None, stop=None, step=None, dtype=None, stream=None):
    """arange(start, stop, step, dtype=None, *, stream=None) -> array

    Values from start (default 0) up to stop by step (default 1).  The dtype is int32 when
    every given bound is an int, else float32."""
    scope = on_stream(stream, "arange")
    args = list(args)
    if args and (isinstance(args[-1], type(dtype_of(0))) or args[-1] is None) and len(args) > 1:
        dtype = args.pop() if dtype is None else dtype
    if len(args) > 3:
        raise TypeError(f"arange() takes at most 3 positional bounds, got {len(args)}.")
    if len(args) == 1:
        if stop is None and start is None:
            stop = args[0]
        elif stop is None:
            stop = args[0]
        else:
            start = args[0]
    elif len(args) == 2:
        start, stop = args
    elif len(args) == 3:
        start, stop, step = args
    if stop is None:
        if start is None:
            raise TypeError("arange() requires stop to be specified.")
        start, stop = None, start
    for v, n in ((start, "start"), (stop, "stop"), (step, "step")):
        if v is not None and not isinstance(v, (int, float)):
            raise TypeError(f"[arange] {n} must be a number, got {v!r}.")
    all_int = all(v is None or (isinstance(v, int)) for v in (start, stop, step))
    s0 = 0 if start is None else start
    st = 1 if step is None else step
    if st == 0:
        raise ValueError("[arange] Cannot compute length with step 0.")
    cdef int default = MLXC_FLOAT32
    if all_int:
        for v, n in ((s0, "start"), (stop, "stop"), (st, "step")):
            check_int_range(v, "arange", n)
        big = max(abs(s0), abs(stop), abs(s0 + st * 2))
        default = MLXC_INT32 if big < 2**31 else MLXC_INT64
    cdef int dt = _dtype_code(dtype, default)
    if math.isnan(s0) or math.isnan(stop) or math.isnan(st) or math.isinf(s0) or math.isinf(stop):
        raise ValueError("[arange] Cannot compute length.")
    if math.isinf(st):       # one element (start) or none, as in MLX
        st = 1.0 if st > 0 else -1.0
        stop = min(stop, s0 + 1) if st > 0 else max(stop, s0 - 1)
    # Integer bounds: exact length (a float quotient loses it past 2**53).
    n = max(0, -((s0 - stop) // st) if all_int else math.ceil((stop - s0) / st))
    if n > 2**63 - 1:
        raise ValueError(f"[arange] Maximum size exceeded: {n} elements.")
    if kind_of(dt) == b'b':
        raise ValueError("[arange] Cannot use bool dtype.")
    if all_int and kind_of(dt) in (b'i', b'u') and max(abs(s0), abs(stop)) >= 2**53:
        # Past 2**53 a double start/step loses the values: count in int64 instead.
        i = new_node(MLXC_INT64, (int(n),), Arange(0.0, 1.0), ())
        v = binary_op(binary_op(i, scalar_array(st, MLXC_INT64), MLXC_MUL),
                      scalar_array(s0, MLXC_INT64), MLXC_ADD)
        return astype_op(v, dt)
    return new_node(dt, (int(n),), Arange(float(s0), float(st)), ())


def linspace(start, stop, num=50, endpoint=True, dtype=None, stream=None):
    """linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=float32, stream=None)"""
    scope = on_stream(stream, "linspace")
    if not PyLong_Check(num):
        raise TypeError(f"[linspace] num must be an integer, got {num!r}.")
    if num < 0:
        raise ValueError(f"[linspace] num must be non-negative, got {num}.")
    check_shape((num,), "linspace")
    cdef int dt = _dtype_code(dtype, MLXC_FLOAT32)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    x = new_node(MLXC_FLOAT32 if not is_float(dt) or dt != MLXC_FLOAT64 else dt,
                 (num,), Arange(float(start), float(step)), ())
    if num > 1 and endpoint:
        # The last value is exactly stop, as in MLX.
        from mlxc._core.ops.elementwise import where
        pos = new_node(MLXC_INT32 if num < 2**31 else MLXC_INT64, (num,), Arange(0.0, 1.0), ())
        x = where(pos == num - 1, float(stop), x)
    return astype_op(x, dt)


cdef object _diag_offset(object k, object n, object m, str op):
    """k as an int clamped to [-n, m]: every offset past the matrix gives the same mask, and
    the clamped one keeps row + k inside int64."""
    if not PyLong_Check(k):
        raise TypeError(f"[{op}] k must be an integer, got {k!r}.")
    return min(max(int_arg(k, op, "k"), -n), m)


def tri(n, m=None, k=0, dtype=None, *, stream=None):
    """tri(n: int, m: int | None = None, k: int = 0, dtype=float32, *, stream=None)

    Ones at and below the k-th diagonal, zeros elsewhere."""
    scope = on_stream(stream, "tri")
    if m is None:
        m = n
    n, m = check_shape((n, m), "tri")
    k = _diag_offset(k, n, m, "tri")
    rows = reshape_op(new_node(MLXC_INT64, (n,), Arange(0.0, 1.0), ()), (n, 1))
    cols = reshape_op(new_node(MLXC_INT64, (m,), Arange(0.0, 1.0), ()), (1, m))
    mask = binary_op(cols, binary_op(rows, k, MLXC_ADD), MLXC_LE)
    return astype_op(mask, _dtype_code(dtype, MLXC_FLOAT32))


def eye(n, m=None, k=0, dtype=None, *, stream=None):
    """eye(n: int, m: int | None = None, k: int = 0, dtype=float32, *, stream=None)"""
    scope = on_stream(stream, "eye")
    if m is None:
        m = n
    n, m = check_shape((n, m), "eye")
    k = _diag_offset(k, n, m, "eye")
    rows = reshape_op(new_node(MLXC_INT64, (n,), Arange(0.0, 1.0), ()), (n, 1))
    cols = reshape_op(new_node(MLXC_INT64, (m,), Arange(0.0, 1.0), ()), (1, m))
    mask = binary_op(cols, binary_op(rows, k, MLXC_ADD), MLXC_EQ)
    return astype_op(mask, _dtype_code(dtype, MLXC_FLOAT32))


def identity(n, dtype=None, *, stream=None):
    """identity(n: int, dtype=float32, *, stream=None): the n x n identity matrix."""
    scope = on_stream(stream, "identity")
    return eye(n, n, 0, dtype)


def _tri_mask(array x, k, bint lower):
    if x.ndim < 2:
        raise ValueError(f"[{'tril' if lower else 'triu'}] The array must have at least 2 "
                         f"dimensions, got {x.ndim}.")
    n, m = x._shape[-2], x._shape[-1]
    k = _diag_offset(k, n, m, "tril" if lower else "triu")
    if lower:
        return tri(n, m, k, dtype_of(MLXC_BOOL))
    from mlxc._core.ops.elementwise import logical_not
    return logical_not(tri(n, m, k - 1, dtype_of(MLXC_BOOL)))


def tril(x, k=0, *, stream=None):
    """tril(x: array, k: int = 0, *, stream=None): zero the elements above the k-th diagonal."""
    scope = on_stream(stream, "tril")
    from mlxc._core.ops.elementwise import where
    cdef array a = as_array(x)
    return where(_tri_mask(a, k, True), a, scalar_array(0, a.dtype))


def triu(x, k=0, *, stream=None):
    """triu(x: array, k: int = 0, *, stream=None): zero the elements below the k-th diagonal."""
    scope = on_stream(stream, "triu")
    from mlxc._core.ops.elementwise import where
    cdef array a = as_array(x)
    return where(_tri_mask(a, k, False), a, scalar_array(0, a.dtype))


def meshgrid(*arrays, sparse=False, indexing="xy", stream=None):
    """meshgrid(*arrays, sparse: bool = False, indexing: str = 'xy', stream=None)"""
    scope = on_stream(stream, "meshgrid")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"[meshgrid] indexing must be 'xy' or 'ij', got {indexing!r}.")
    xs = [as_array(a) for a in arrays]
    xs = [reshape_op(x, (x.size,)) for x in xs]
    n = len(xs)
    shapes = []
    for i in range(n):
        s = [1] * n
        s[i] = -1
        shapes.append(s)
    if indexing == "xy" and n > 1:
        shapes[0][0], shapes[0][1] = 1, -1
        shapes[1][0], shapes[1][1] = -1, 1
    outs = [reshape_op(x, tuple(x.size if d == -1 else 1 for d in s)) for x, s in zip(xs, shapes)]
    if sparse:
        return tuple(outs)
    from mlxc._core.ops.shape import broadcast_arrays
    return tuple(broadcast_arrays(*outs))


def asarray(a, dtype=None, *, copy=None):
    """asarray(a: scalar | array | Sequence | DLPackCompatible, dtype: Dtype | None = None, *,
    copy: bool | None = None) -> array

    a as an array.  copy=True always copies; copy=None shares memory when possible (an
    mlxc array, or a DLPack producer such as a numpy array of the same dtype) and copies
    otherwise; copy=False never copies and raises ValueError when a copy is required."""
    cdef array x
    cdef int want = -1 if dtype is None else to_dtype(dtype).code
    if isinstance(a, array):
        x = <array>a
        if want < 0 or want == x.dtype:
            # A new array object (in-place operators on it must not touch a).
            return new_node(x.dtype, x._shape, copy_prim(), (x,)) if copy else x._clone()
        if copy is False:
            raise ValueError(f"Unable to avoid copy while creating an array as requested "
                             f"(asarray: casting {dtype_of(x.dtype).name} to "
                             f"{dtype_of(want).name}).")
        return astype_op(x, want)
    if not hasattr(a, "__dlpack__") and not isinstance(a, (list, tuple, bool, int, float,
                                                            complex)):
        try:                            # bytes, array.array, numpy scalars: their buffer
            a = np.asarray(memoryview(a))
        except TypeError:
            pass
    if hasattr(a, "__dlpack__"):
        try:
            return import_dlpack(a, want, copy)
        except BufferError:
            # numpy cannot export some arrays (byte-swapped, read-only legacy ...).
            if copy is False or not isinstance(a, (np.ndarray, np.generic)):
                raise
    if copy is False:
        raise ValueError(f"Unable to avoid copy while creating an array as requested "
                         f"(asarray of {type(a).__name__}).")
    return _array_cls(a, dtype)


def copy(a, *, stream=None):
    """copy(a: array, *, stream=None) -> array: a new array with the same values."""
    scope = on_stream(stream, "copy")
    cdef array x = as_array(a)
    return new_node(x.dtype, x._shape, copy_prim(), (x,))
