"""Reduction, scan and sort op constructors.

sum, mean, prod, max, min, all, any, var, std, logsumexp, argmax, argmin,
count_nonzero, softmax, median, minmax; cumsum, cumprod, cummax, cummin,
logcumsumexp; sort, argsort, partition, argpartition, topk.

Reduce nodes output the kept axes only; keepdims is a reshape on top.  Composite ops
(mean, var, logsumexp, softmax, ...) are built from Reduce / Unary / Binary nodes.
"""
from operator import index as _index

from mlxc._core.array cimport array, as_array, new_node, scalar_array
from mlxc._core.dtype cimport dtype_of, is_float, kind_of, to_dtype
from mlxc._core.kernels cimport *
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport astype_op, binary_op, unary_op
from mlxc._core.ops.shape cimport reshape_op, slice_op, transpose_op
from mlxc._core.prims.elementwise cimport select_prim
from mlxc._core.prims.reduce cimport ArgReduce, ArgSort, Reduce, Scan, Sort

__all__ = [
    "sum", "mean", "prod", "max", "min", "all", "any", "var", "std", "logsumexp",
    "argmax", "argmin", "count_nonzero", "softmax", "median", "minmax",
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "cumulative_sum",
    "cumulative_prod", "sort", "argsort", "partition", "argpartition", "topk",
]


# ---------------------------------------------------------------- argument checks

cdef int _axis_int(object axis, int ndim, str op, bint scan_style) except? -1:
    """An int-like axis normalized to [0, ndim); IndexError when out of range."""
    try:
        ax = _index(axis)            # ints, bools and numpy integers, as MLX accepts
    except TypeError:
        raise TypeError(f"[{op}] Expected an integer axis, got {axis!r} of type "
                        f"{type(axis).__name__}.") from None
    if ax < -ndim or ax >= ndim:
        if scan_style:
            raise IndexError(f"[{op}] Axis {ax} is out of bounds for array with {ndim} "
                             f"dimensions.")
        raise IndexError(f"[{op}] Invalid axis {ax} for array with {ndim} dimensions.")
    return <int>(ax + ndim if ax < 0 else ax)


cdef tuple reduce_axes(object axis, int ndim, str op):
    cdef list out
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        out = [_axis_int(a, ndim, op, False) for a in axis]
    elif isinstance(axis, (str, bytes)) or not hasattr(axis, "__index__"):
        raise TypeError(f"[{op}] Expected None, an int or a sequence of ints for axis, got "
                        f"{axis!r} of type {type(axis).__name__}.")
    else:
        out = [_axis_int(axis, ndim, op, False)]
    if len(set(out)) != len(out):
        raise ValueError(f"[{op}] Duplicate axes detected in reduction: {axis}.")
    out.sort()
    return tuple(out)


cdef int scan_axis(object axis, int ndim, str op) except? -1:
    return _axis_int(axis, ndim, op, True)


cdef array _flat(array x):
    return reshape_op(x, (x.size,))


cdef tuple _kept_shape(array x, tuple axes, bint keepdims):
    cdef list dims = []
    for i in range(x.ndim):
        if i in axes:
            if keepdims:
                dims.append(1)
        else:
            dims.append(x._shape[i])
    return tuple(dims)


cdef long long _count(array x, tuple axes):
    cdef long long n = 1
    for i in axes:
        n *= <long long>x._shape[i]
    return n


cdef bint _is_half(int dt):
    return dt == MLXC_FLOAT16 or dt == MLXC_BFLOAT16


# ---------------------------------------------------------------- node builders

cpdef array reduce_op(array x, tuple axes, bint keepdims, int op):
    cdef int dt = MLXC_BOOL if op == MLXC_RALL or op == MLXC_RANY else x.dtype
    if len(axes) == 0:
        return astype_op(x, dt)
    cdef array r = new_node(dt, _kept_shape(x, axes, False), Reduce(op, axes), (x,))
    if keepdims:
        r = reshape_op(r, _kept_shape(x, axes, True))
    return r


cdef int _sum_dtype(int dt):
    if dt == MLXC_BOOL or dt == MLXC_INT8 or dt == MLXC_INT16:
        return MLXC_INT32
    if dt == MLXC_UINT8 or dt == MLXC_UINT16:
        return MLXC_UINT32
    return dt


cpdef array sum_op(array x, tuple axes, bint keepdims):
    if len(axes) == 0:
        return x
    return reduce_op(astype_op(x, _sum_dtype(x.dtype)), axes, keepdims, MLXC_RSUM)


cdef array _where(array c, array a, array b):
    """c ? a : b where c has a's shape and b is a scalar of a's dtype."""
    return new_node(a.dtype, a._shape, select_prim(), (c, a, b))


cdef array _safe_max(array x, tuple axes):
    """max over axes (kept as size-1 dims) with non-finite values replaced by 0, the
    shift that makes exp(x - m) safe: rows of -inf then give exp(-inf) = 0, not NaN."""
    cdef array m = (_complex_extreme(x, axes, True, MLXC_RMAX) if x.dtype == MLXC_COMPLEX64
                    else reduce_op(x, axes, True, MLXC_RMAX))
    return _where(unary_op(m, MLXC_ISFINITE), m, scalar_array(0, x.dtype))


cdef array _float_input(object a):
    cdef array x = as_array(a)
    if not is_float(x.dtype):
        x = astype_op(x, MLXC_FLOAT32)
    return x


# ---------------------------------------------------------------- reductions

def sum(a, /, axis=None, keepdims=False, *, stream=None):
    """sum(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "sum")
    cdef array x = as_array(a)
    return sum_op(x, reduce_axes(axis, x.ndim, "sum"), keepdims)


def prod(a, /, axis=None, keepdims=False, *, stream=None):
    """prod(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "prod")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "prod")
    if len(axes) == 0:
        return x
    return reduce_op(astype_op(x, _sum_dtype(x.dtype)), axes, keepdims, MLXC_RPROD)


cdef array _axes_last(array x, tuple axes):
    """x with the reduced axes moved last and merged into one (a view when possible)."""
    cdef list perm = [i for i in range(x.ndim) if i not in axes]
    cdef int nk = len(perm)
    perm.extend(axes)
    x = transpose_op(x, tuple(perm))
    return reshape_op(x, x._shape[:nk] + (_count(x, tuple(range(nk, x.ndim))),))


cdef array _take_one(array x, int ax, long long i):
    """x[..., i:i+1, ...] along ax."""
    start = [0] * x.ndim
    stop = list(x._shape)
    start[ax] = i
    stop[ax] = i + 1
    return slice_op(x, tuple(start), tuple(stop), (1,) * x.ndim)


cdef array _complex_extreme(array x, tuple axes, bint keepdims, int op):
    # complex64 orders lexicographically (real, then imaginary), as MLX: the first or last
    # element of a sort over the merged reduced axes.
    cdef array y = _axes_last(x, axes)
    cdef int nk = y.ndim - 1
    y = new_node(y.dtype, y._shape, Sort(nk), (y,))
    y = _take_one(y, nk, y._shape[nk] - 1 if op == MLXC_RMAX else 0)
    return reshape_op(y, _kept_shape(x, axes, keepdims))


cdef array _extreme(object a, object axis, bint keepdims, int op, str name):
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, name)
    if len(axes) == 0:
        return x
    if x.size == 0:
        for i in axes:
            if x._shape[i] == 0:
                raise ValueError(f"[{name}] Cannot {name} reduce over axis {i} with size 0.")
    if x.dtype == MLXC_COMPLEX64:
        return _complex_extreme(x, axes, keepdims, op)
    return reduce_op(x, axes, keepdims, op)


def max(a, /, axis=None, keepdims=False, *, stream=None):
    """max(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "max")
    return _extreme(a, axis, keepdims, MLXC_RMAX, "max")


def min(a, /, axis=None, keepdims=False, *, stream=None):
    """min(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "min")
    return _extreme(a, axis, keepdims, MLXC_RMIN, "min")


def minmax(a, /, axis=None, keepdims=False, *, stream=None):
    """minmax(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> tuple[array, array]."""
    scope = on_stream(stream, "minmax")
    return (_extreme(a, axis, keepdims, MLXC_RMIN, "minmax"),
            _extreme(a, axis, keepdims, MLXC_RMAX, "minmax"))


def all(a, /, axis=None, keepdims=False, *, stream=None):
    """all(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "all")
    cdef array x = as_array(a)
    return reduce_op(x, reduce_axes(axis, x.ndim, "all"), keepdims, MLXC_RALL)


def any(a, /, axis=None, keepdims=False, *, stream=None):
    """any(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "any")
    cdef array x = as_array(a)
    return reduce_op(x, reduce_axes(axis, x.ndim, "any"), keepdims, MLXC_RANY)


cdef array _mean(array x, tuple axes, bint keepdims):
    """Mean in x's float dtype; half types sum in float32 so the total cannot overflow."""
    cdef int dt = x.dtype
    cdef long long n = _count(x, axes)
    if len(axes) == 0:
        return x
    if _is_half(dt):
        x = astype_op(x, MLXC_FLOAT32)
    cdef array s = reduce_op(x, axes, keepdims, MLXC_RSUM)
    # n == 0 gives 0/0 = NaN, as MLX.
    s = binary_op(s, scalar_array(float(n), MLXC_FLOAT32 if x.dtype != MLXC_FLOAT64
                                  else MLXC_FLOAT64), MLXC_DIV)
    return astype_op(s, dt)


def mean(a, /, axis=None, keepdims=False, *, stream=None):
    """mean(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "mean")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "mean")
    return _mean(_float_input(x), axes, keepdims)


cdef array _var(object a, object axis, bint keepdims, object ddof, str name):
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, name)
    try:
        dd = _index(ddof)
    except TypeError:
        raise TypeError(f"[{name}] ddof must be an integer, got {ddof!r}.") from None
    x = _float_input(x)
    cdef int dt = x.dtype
    if _is_half(dt):
        x = astype_op(x, MLXC_FLOAT32)
    cdef long long n = _count(x, axes)
    cdef array d = binary_op(x, _mean(x, axes, True), MLXC_SUB)
    cdef array sq
    if dt == MLXC_COMPLEX64:
        re = unary_op(d, MLXC_REAL)
        im = unary_op(d, MLXC_IMAG)
        sq = binary_op(binary_op(re, re, MLXC_MUL), binary_op(im, im, MLXC_MUL), MLXC_ADD)
    else:
        sq = binary_op(d, d, MLXC_MUL)
    cdef array s = reduce_op(sq, axes, keepdims, MLXC_RSUM)
    # MLX divides by max(n - ddof, 0): NaN for 0/0, inf otherwise.
    s = binary_op(s, scalar_array(float(n - dd if n > dd else 0), s.dtype), MLXC_DIV)
    return astype_op(s, MLXC_FLOAT32 if dt == MLXC_COMPLEX64 else dt)


def var(a, /, axis=None, keepdims=False, ddof=0, *, stream=None):
    """var(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, ddof: int = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "var")
    return _var(a, axis, keepdims, ddof, "var")


def std(a, /, axis=None, keepdims=False, ddof=0, *, stream=None):
    """std(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, ddof: int = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "std")
    return unary_op(_var(a, axis, keepdims, ddof, "std"), MLXC_SQRT)


def logsumexp(a, /, axis=None, keepdims=False, *, stream=None):
    """logsumexp(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "logsumexp")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "logsumexp")
    if x.size == 0:
        raise ValueError("[logsumexp] Received empty array.")
    x = _float_input(x)
    if len(axes) == 0:
        return x
    cdef array m = _safe_max(x, axes)
    cdef array s = reduce_op(unary_op(binary_op(x, m, MLXC_SUB), MLXC_EXP), axes, True,
                             MLXC_RSUM)
    cdef array r = binary_op(unary_op(s, MLXC_LOG), m, MLXC_ADD)
    if not keepdims:
        r = reshape_op(r, _kept_shape(x, axes, False))
    return r


def softmax(a, /, axis=None, *, precise=False, stream=None):
    """softmax(a: array, /, axis: None | int | Sequence[int] = None, *, precise: bool = False, stream=None) -> array."""
    scope = on_stream(stream, "softmax")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "softmax")
    x = _float_input(x)
    cdef int dt = x.dtype
    if x.size == 0:
        return x
    if precise and _is_half(dt):
        x = astype_op(x, MLXC_FLOAT32)
    cdef array e = unary_op(binary_op(x, _safe_max(x, axes), MLXC_SUB), MLXC_EXP)
    cdef array r = binary_op(e, reduce_op(e, axes, True, MLXC_RSUM), MLXC_DIV)
    return astype_op(r, dt)


def count_nonzero(a, /, axis=None, keepdims=False, *, stream=None):
    """count_nonzero(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "count_nonzero")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "count_nonzero")
    cdef array nz = astype_op(x, MLXC_BOOL)          # x != 0 (NaN counts as nonzero)
    return reduce_op(astype_op(nz, MLXC_INT32), axes, keepdims, MLXC_RSUM)


cdef array _argreduce(object a, object axis, bint keepdims, int op, str name):
    cdef array x = as_array(a)
    cdef int ax, nd = x.ndim
    cdef tuple kshape = ()
    if axis is None:
        kshape = (1,) * nd
        x = _flat(x)
        ax = 0
    else:
        ax = _axis_int(axis, nd, name, False)
    if x.size == 0:
        raise ValueError(f"[{name}] Cannot {name} reduce zero size array.")
    cdef array r
    if x.dtype == MLXC_COMPLEX64:
        r = _complex_argreduce(x, ax, op)
    else:
        r = new_node(MLXC_UINT32, _kept_shape(x, (ax,), False), ArgReduce(op, ax), (x,))
    if keepdims:
        r = reshape_op(r, kshape if axis is None else _kept_shape(x, (ax,), True))
    elif axis is None:
        r = reshape_op(r, ())
    return r


cdef array _complex_argreduce(array x, int ax, int op):
    """argmin/argmax of complex64 (lexicographic order) from a stable argsort; argmax sorts
    the reversed axis so that, among equal maxima, the first occurrence comes out last."""
    cdef long long n = x._shape[ax]
    cdef array r
    if op == MLXC_ARGMIN:
        r = _take_one(new_node(MLXC_UINT32, x._shape, ArgSort(ax), (x,)), ax, 0)
    else:
        start = [0] * x.ndim
        stop = list(x._shape)
        step = [1] * x.ndim
        start[ax] = n - 1
        stop[ax] = -1
        step[ax] = -1
        x = slice_op(x, tuple(start), tuple(stop), tuple(step))
        r = _take_one(new_node(MLXC_UINT32, x._shape, ArgSort(ax), (x,)), ax, n - 1)
        r = binary_op(scalar_array(n - 1, MLXC_UINT32), r, MLXC_SUB)
    return reshape_op(r, _kept_shape(x, (ax,), False))


def argmax(a, /, axis=None, keepdims=False, *, stream=None):
    """argmax(a: array, /, axis: None | int = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "argmax")
    return _argreduce(a, axis, keepdims, MLXC_ARGMAX, "argmax")


def argmin(a, /, axis=None, keepdims=False, *, stream=None):
    """argmin(a: array, /, axis: None | int = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "argmin")
    return _argreduce(a, axis, keepdims, MLXC_ARGMIN, "argmin")


# ---------------------------------------------------------------- scans

cdef array _scan(object a, object axis, object reverse, object inclusive, object dtype,
                 int op, str name):
    cdef array x = as_array(a)
    cdef int ax
    if dtype is not None:
        x = astype_op(x, to_dtype(dtype).code)
    if axis is None:
        x = _flat(x)
        ax = 0
    else:
        ax = scan_axis(axis, x.ndim, name)
    if op == MLXC_CUMSUM and x.dtype == MLXC_BOOL:
        x = astype_op(x, MLXC_INT32)
    return new_node(x.dtype, x._shape, Scan(op, ax, bool(reverse), bool(inclusive)), (x,))


def cumsum(a, /, axis=None, *, reverse=False, inclusive=True, dtype=None, stream=None):
    """cumsum(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = True, dtype: Dtype | None = None, stream=None) -> array."""
    scope = on_stream(stream, "cumsum")
    return _scan(a, axis, reverse, inclusive, dtype, MLXC_CUMSUM, "cumsum")


def cumprod(a, /, axis=None, *, reverse=False, inclusive=True, dtype=None, stream=None):
    """cumprod(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = True, dtype: Dtype | None = None, stream=None) -> array."""
    scope = on_stream(stream, "cumprod")
    return _scan(a, axis, reverse, inclusive, dtype, MLXC_CUMPROD, "cumprod")


def cummax(a, /, axis=None, *, reverse=False, inclusive=True, stream=None):
    """cummax(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = True, stream=None) -> array."""
    scope = on_stream(stream, "cummax")
    return _scan(a, axis, reverse, inclusive, None, MLXC_CUMMAX, "cummax")


def cummin(a, /, axis=None, *, reverse=False, inclusive=True, stream=None):
    """cummin(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = True, stream=None) -> array."""
    scope = on_stream(stream, "cummin")
    return _scan(a, axis, reverse, inclusive, None, MLXC_CUMMIN, "cummin")


cumulative_sum = cumsum
cumulative_prod = cumprod


def logcumsumexp(a, /, axis=None, *, reverse=False, inclusive=True, stream=None):
    """logcumsumexp(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = True, stream=None) -> array."""
    scope = on_stream(stream, "logcumsumexp")
    cdef array x = _float_input(a)
    cdef int dt = x.dtype
    if _is_half(dt):
        x = astype_op(x, MLXC_FLOAT32)
    x = _scan(x, axis, reverse, inclusive, None, MLXC_LOGCUMSUMEXP, "logcumsumexp")
    return astype_op(x, dt)


# ---------------------------------------------------------------- sorting

cdef tuple _sort_input(object a, object axis, str name):
    """(x, axis): x flattened when axis is None."""
    cdef array x = as_array(a)
    if axis is None:
        return _flat(x), 0
    return x, scan_axis(axis, x.ndim, name)


def sort(a, /, axis=-1, *, stream=None):
    """sort(a: array, /, axis: None | int = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "sort")
    x, ax = _sort_input(a, axis, "sort")
    return new_node((<array>x).dtype, (<array>x)._shape, Sort(ax), (x,))


def argsort(a, /, axis=-1, *, stream=None):
    """argsort(a: array, /, axis: None | int = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "argsort")
    x, ax = _sort_input(a, axis, "argsort")
    return new_node(MLXC_UINT32, (<array>x)._shape, ArgSort(ax), (x,))


cdef int _check_kth(object kth, array x, int ax, object axis, str name) except -1:
    cdef long long n = x._shape[ax]
    try:
        k = _index(kth)
    except TypeError:
        raise TypeError(f"[{name}] kth must be an integer, got {kth!r}.") from None
    if k < -n or k >= n:
        raise ValueError(f"[{name}] Received invalid kth {k} along axis {axis} for array "
                         f"with shape: {x._shape}.")
    return 0


def partition(a, /, kth, axis=-1, *, stream=None):
    """partition(a: array, /, kth: int, axis: None | int = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "partition")
    # A full sort satisfies partition's contract (kth in place, smaller before, larger after).
    x, ax = _sort_input(a, axis, "partition")
    _check_kth(kth, x, ax, axis, "partition")
    return new_node((<array>x).dtype, (<array>x)._shape, Sort(ax), (x,))


def argpartition(a, /, kth, axis=-1, *, stream=None):
    """argpartition(a: array, /, kth: int, axis: None | int = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "argpartition")
    x, ax = _sort_input(a, axis, "argpartition")
    _check_kth(kth, x, ax, axis, "argpartition")
    return new_node(MLXC_UINT32, (<array>x)._shape, ArgSort(ax), (x,))


def topk(a, /, k, axis=-1, *, stream=None):
    """topk(a: array, /, k: int, axis: None | int = -1, *, stream=None) -> array: the k largest along axis."""
    scope = on_stream(stream, "topk")
    x, ax = _sort_input(a, axis, "topk")
    cdef array s = <array>x
    cdef long long n = s._shape[ax]
    try:
        kk = _index(k)
    except TypeError:
        raise TypeError(f"[topk] k must be an integer, got {k!r}.") from None
    if kk < 0 or kk > n:
        raise ValueError(f"[topk] Received invalid k={kk} along axis {axis} for array with "
                         f"shape: {s._shape}.")
    s = new_node(s.dtype, s._shape, Sort(ax), (s,))
    start = [0] * s.ndim
    start[ax] = n - kk
    return slice_op(s, tuple(start), s._shape, (1,) * s.ndim)


def median(a, /, axis=None, keepdims=False, *, stream=None):
    """median(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, stream=None) -> array."""
    scope = on_stream(stream, "median")
    cdef array x = as_array(a)
    cdef tuple axes = reduce_axes(axis, x.ndim, "median")
    cdef long long n = _count(x, axes)
    cdef int i, nk
    if n == 0:
        raise ValueError("[median] Cannot take median along empty axis.")
    x = _float_input(x)
    cdef tuple out_shape = _kept_shape(x, axes, keepdims)
    # Reduced axes last, merged into one, sorted; the middle one or two elements remain.
    x = _axes_last(x, axes)
    nk = x.ndim - 1
    x = new_node(x.dtype, x._shape, Sort(nk), (x,))
    start = [0] * (nk + 1)
    stop = list(x._shape)
    start[nk] = (n - 1) // 2
    stop[nk] = n // 2 + 1
    x = slice_op(x, tuple(start), tuple(stop), (1,) * (nk + 1))
    return reshape_op(_mean(x, (nk,), False), out_shape)
