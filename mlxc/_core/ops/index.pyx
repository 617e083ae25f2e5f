"""Indexing and gather/scatter op constructors: __getitem__, __setitem__, array.at[], take,
take_along_axis, put_along_axis, slice, slice_update, diagonal, diag, trace.

An index expression is first expanded to one entry per axis.  Without index arrays it is a
view (slice_op + reshape_op).  With index arrays every axis that is not a leading/trailing
full slice joins one "block" of axes addressed by a single linear int64 index (an
IndexLinear node bounds-checks each axis and combines them); Gather/Scatter then see the
source as (outer, block, inner).  Result dims follow numpy's rules: the broadcast index
dims replace the indexed axes in place when those axes are adjacent, else they go first.
"""
from cpython.long cimport PyLong_Check
from cpython.slice cimport PySlice_Check

import numpy as np

from mlxc._core.array cimport array, as_array, new_node, scalar_array
from mlxc._core.dtype cimport dtype_of, is_integral, to_dtype
from mlxc._core.kernels cimport (MLXC_BOOL, MLXC_INT32, MLXC_INT64, MLXC_MAXIMUM, MLXC_MINIMUM, MLXC_MUL,
                                 MLXC_ADD, MLXC_SUB, MLXC_DIV, MLXC_SCATTER_ADD, MLXC_SCATTER_MAX,
                                 MLXC_SCATTER_MIN, MLXC_SCATTER_PLAIN, MLXC_SCATTER_PROD)
from mlxc._core.ops.common cimport broadcast_shapes2, check_nbytes, int_arg, normalize_axis
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport astype_op, binary_op, to_array_like
from mlxc._core.ops.shape cimport broadcast_to_op, reshape_op, slice_op
from mlxc._core.prims.index cimport (Diagonal, DynamicSlice, Gather, IndexLinear,
                                     MaskedScatter, Scatter, SliceUpdate, TakeAlong)

from mlxc._core.array import _py_hooks
from mlxc._core.ops.creation import zeros

__all__ = ["take", "take_along_axis", "put_along_axis", "slice", "slice_update", "diagonal",
           "diag", "trace", "ArrayAt"]


# ---------------------------------------------------------------- index parsing

cdef inline bint _is_int(object x):
    return (PyLong_Check(x) and not isinstance(x, bool)) or isinstance(x, np.integer)




cdef array _index_array(object x, str op):
    """An index entry that is an array (mx.array, list or numpy array) as an integer array."""
    cdef array r
    if isinstance(x, array):
        r = <array>x
    elif isinstance(x, np.ndarray) and x.dtype == np.bool_:
        raise ValueError("boolean indices are not yet supported")
    else:
        r = as_array(x)
    if r.dtype == MLXC_BOOL:
        raise ValueError("boolean indices are not yet supported")
    if not is_integral(r.dtype):
        raise ValueError(f"[{op}] Got indices with invalid dtype {dtype_of(r.dtype)}. "
                         f"Indices must be integral.")
    return r


cdef int _check_index_values(array x, long long size, object axis, str op) except -1:
    """Up-front bounds check of an index array whose values already exist: for indexing
    that may update in place, so a bad index raises before the target is rebound to a
    graph that would fail.  (Pure gathers leave the check to the kernel.)"""
    if x.buf is None or x.size == 0:
        return 0
    v = x._numpy()
    lo = int(v.min())
    hi = int(v.max())
    if lo < -size or hi >= size:
        raise IndexError(f"[{op}] Index {lo if lo < -size else hi} is out of bounds for axis "
                         f"{axis} with size {size}.")
    return 0


cdef array _gather_index(array idx):
    """Index arrays as the gather kernels read them: int32 and int64 as they are (no
    widening pass over MLX's usual int32 indices), other integer types as int64."""
    if idx.dtype == MLXC_INT32 or idx.dtype == MLXC_INT64:
        return idx
    return astype_op(idx, MLXC_INT64)


cdef long long _check_int(object i, long long size, object axis) except? -1:
    if i < -size or i >= size:          # a Python int: any size is just out of bounds
        raise IndexError(f"Index {i} is out of bounds for axis {axis} with size {size}.")
    cdef long long v = i
    return v + size if v < 0 else v


cdef tuple _slice_indices(object sl, long long n):
    """slice.indices (ValueError for a zero step) with the step clamped to the axis length:
    a longer step selects the same single element and stays inside int64."""
    start, stop, step = sl.indices(n)
    m = n if n > 0 else 1
    return start, stop, (min(step, m) if step > 0 else max(step, -m))


cdef list _expand(array a, object idx, str op, list oob=None):
    """One entry per consumed axis plus None for new axes: int, (start, stop, step) slices
    normalized with slice.indices, integer arrays.  Ellipsis and trailing axes expanded.
    oob (updates): an out-of-range int is recorded there as (index, axis, size) and stands
    in as 0, so that the value's shape is still checked before the IndexError (MLX's
    updates silently select nothing there; mlxc's writes are bounds-checked like reads)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    cdef list items = []
    cdef int n_ell = 0, n_cons = 0
    for x in idx:
        if x is None:
            items.append(None)
        elif x is Ellipsis:
            n_ell += 1
            items.append(Ellipsis)
        elif PySlice_Check(x):
            items.append(x)
            n_cons += 1
        elif isinstance(x, array) or isinstance(x, (list, np.ndarray)):
            items.append(_index_array(x, op))
            n_cons += 1
        elif _is_int(x):
            items.append(int(x))
            n_cons += 1
        else:
            raise ValueError(f"Cannot index mlx array using the given type "
                             f"{type(x).__name__}.")
    if n_ell > 1:
        raise ValueError("An index can only have a single ellipsis (...).")
    if n_cons > a.ndim:
        raise ValueError(f"Too many indices for array with {a.ndim} dimensions.")
    cdef list out = []
    cdef int ax = 0
    cdef bint seen_ell = False
    for x in items:
        if x is Ellipsis:
            for _ in range(a.ndim - n_cons):
                out.append((0, a._shape[ax], 1))
                ax += 1
            seen_ell = True
        elif x is None:
            out.append(None)
        elif PySlice_Check(x):
            out.append(_slice_indices(x, a._shape[ax]))

            ax += 1
        elif isinstance(x, array):
            out.append(x)
            ax += 1
        elif oob is not None and (x < -a._shape[ax] or x >= a._shape[ax]) and a._shape[ax] > 0:
            oob.append((x, ax, a._shape[ax]))
            out.append(0)
            ax += 1
        else:
            out.append(_check_int(x, a._shape[ax], ax))
            ax += 1
    while ax < a.ndim:
        out.append((0, a._shape[ax], 1))
        ax += 1
    return out


cdef inline long long _slen(tuple s):
    return len(range(s[0], s[1], s[2]))


cdef bint _has_array(list ent):
    for e in ent:
        if isinstance(e, array):
            return True
    return False


cdef tuple _basic(array a, list ent):
    """(start, stop, step, sliced shape, result shape) of a basic (view) index."""
    cdef list start = [], stop = [], step = [], sliced = [], res = []
    for e in ent:
        if e is None:
            res.append(1)
        elif isinstance(e, tuple):
            start.append(e[0])
            stop.append(e[1])
            step.append(e[2])
            sliced.append(_slen(e))
            res.append(sliced[-1])
        else:
            start.append(e)
            stop.append(e + 1)
            step.append(1)
            sliced.append(1)
    return tuple(start), tuple(stop), tuple(step), tuple(sliced), tuple(res)


cdef class _Plan:
    """An advanced index: the source reshaped with new axes, the block (axis, naxes), the
    linear index node, and the result shape."""
    cdef array src           # a with size-1 dims where the index has None
    cdef int axis, naxes
    cdef array lin           # int64 linear index into the block
    cdef tuple shape         # result shape: src[:axis] + lin.shape + src[axis + naxes:]
    cdef object msg_axis


cdef inline bint _full(object e, long long dim):
    """e is a slice covering the whole axis in order."""
    return isinstance(e, tuple) and e[0] == 0 and e[2] == 1 and e[1] >= dim


cdef _Plan _advanced(array a, list ent, str op):
    cdef _Plan P = _Plan.__new__(_Plan)
    cdef list dims = [], orig = [], e2 = []
    cdef int ax = 0, i, n, p, q, j
    for e in ent:
        if e is None:
            dims.append(1)
            orig.append(None)
            e2.append((0, 1, 1))
        else:
            dims.append(a._shape[ax])
            orig.append(ax)
            # An int mixed with index arrays is a 0-d index array (numpy's rule).
            e2.append(scalar_array(e, MLXC_INT64) if PyLong_Check(e) else e)
            ax += 1
    n = len(dims)
    P.src = reshape_op(a, tuple(dims))
    cdef list adv = [i for i in range(n) if isinstance(e2[i], array)]
    B = ()
    for i in adv:
        B = broadcast_shapes2(B, (<array>e2[i])._shape, op)
    cdef bint inplace = adv[-1] - adv[0] + 1 == len(adv)

    p = 0
    if inplace:
        while p < adv[0] and _full(e2[p], dims[p]):
            p += 1
    q = n
    while q > adv[-1] + 1 and _full(e2[q - 1], dims[q - 1]):
        q -= 1
    P.axis = p
    P.naxes = q - p
    # Dims of the linear index: the broadcast index shape B placed per numpy, slice dims.
    cdef list mid = []
    cdef list pos = [0] * (q - p)
    cdef int bpos = 0
    if not inplace:
        mid.extend(B)
    for j in range(p, q):
        if isinstance(e2[j], tuple):
            pos[j - p] = len(mid)
            mid.append(_slen(e2[j]))
        elif inplace and j == adv[0]:
            bpos = len(mid)
            mid.extend(B)
    if P.naxes == 1:
        x = <array>e2[p]
        _check_index_values(x, dims[p], orig[p], op)
        P.lin = astype_op(x, MLXC_INT64)
        P.msg_axis = orig[p]
    else:
        kinds, sizes, strides, starts, steps, axes, inputs = [], [], [], [], [], [], []
        stride = 1
        for j in range(q - 1, p - 1, -1):
            strides.append(stride)
            stride *= dims[j]
        strides.reverse()
        for j in range(p, q):
            e = e2[j]
            sizes.append(dims[j])
            axes.append(orig[j])
            if isinstance(e, array):
                _check_index_values(<array>e, dims[j], orig[j], op)
                kinds.append(len(inputs))
                inputs.append(e)
                starts.append(0)
                steps.append(0)
            else:
                kinds.append(-1)
                starts.append(e[0])
                steps.append(e[2])
        P.lin = new_node(MLXC_INT64, tuple(mid),
                         IndexLinear(tuple(kinds), tuple(sizes), tuple(strides), tuple(starts),
                                     tuple(steps), tuple(pos), bpos, len(B), tuple(axes), op),
                         tuple(inputs))
        P.msg_axis = tuple(axes)
    P.shape = tuple(dims[:p]) + P.lin._shape + tuple(dims[q:])
    return P


cdef array _gather(_Plan P, str op):
    return new_node(P.src.dtype, P.shape, Gather(P.axis, P.naxes, P.msg_axis, op),
                    (P.src, P.lin))


def _getitem(a, idx):
    cdef array x = <array>a
    if not isinstance(idx, bool):            # (MLX refuses a Python bool as an index)
        mask = _as_mask(idx)
        if mask is not None:
            return _masked_read(x, <array>mask)
    cdef list ent = _expand(x, idx, "gather")
    if _has_array(ent):
        return _gather(_advanced(x, ent, "gather"), "gather")
    start, stop, step, sliced, res = _basic(x, ent)
    return reshape_op(slice_op(x, start, stop, step), res)


# ---------------------------------------------------------------- updates

cdef array _value(object val, array a, tuple shape, str op):
    """The update value as a's dtype, broadcast to the indexed shape (numpy's rules: extra
    leading size-1 dims are dropped)."""
    cdef array v = <array>val if isinstance(val, array) else to_array_like(val, a)
    v = astype_op(v, a.dtype)
    cdef tuple vs = v._shape
    while len(vs) > len(shape) and vs[0] == 1:
        vs = vs[1:]
    if len(vs) > len(shape):
        raise ValueError(f"[{op}] Cannot broadcast update of shape {v._shape} to the indexed "
                         f"shape {shape}.")
    try:
        b = broadcast_shapes2(vs, shape, op)
    except ValueError:
        b = None
    if b != shape:
        raise ValueError(f"[{op}] Cannot broadcast update of shape {v._shape} to the indexed "
                         f"shape {shape}.")
    return broadcast_to_op(reshape_op(v, vs), shape)


cdef dict _COMBINE = {MLXC_SCATTER_ADD: MLXC_ADD, MLXC_SCATTER_PROD: MLXC_MUL,
                      MLXC_SCATTER_MAX: MLXC_MAXIMUM, MLXC_SCATTER_MIN: MLXC_MINIMUM}


cdef int _raise_oob(list oob, str op) except -1:
    i, axis, size = oob[0]
    raise IndexError(f"[{op}] Index {i} is out of bounds for axis {axis} with size {size}.")


cdef array _update(array a, object idx, object val, int mode, str op):
    """a with a[idx] replaced (mode PLAIN) or combined with val (repeated indices accumulate)."""
    cdef list oob = []
    cdef list ent = _expand(a, idx, op, oob)
    cdef _Plan P
    cdef array v, cur
    if _has_array(ent):
        P = _advanced(a, ent, op)
        v = _value(val, a, P.shape, op)
        if oob:
            _raise_oob(oob, op)
        out = new_node(a.dtype, P.src._shape,
                       Scatter(mode, P.axis, P.naxes, False, P.msg_axis, op),
                       (P.src, v, P.lin))
        return reshape_op(out, a._shape)
    start, stop, step, sliced, res = _basic(a, ent)
    v = _value(val, a, res, op)
    if oob:
        _raise_oob(oob, op)
    if mode != MLXC_SCATTER_PLAIN:
        # No repeats are possible in a basic index: combine with the current values.
        cur = reshape_op(slice_op(a, start, stop, step), res)
        v = astype_op(binary_op(cur, v, _COMBINE[mode]), a.dtype)
    return new_node(a.dtype, a._shape, SliceUpdate(start, step, None),
                    (a, reshape_op(v, sliced)))


cdef object _as_mask(object idx):
    """idx as a bool mask array when it is one (an mx/numpy bool array, a list of bools or
    a Python bool, which masks the whole array as in MLX), else None."""
    if isinstance(idx, bool):
        return scalar_array(idx, MLXC_BOOL)
    if isinstance(idx, array):
        return idx if (<array>idx).dtype == MLXC_BOOL else None
    if isinstance(idx, np.ndarray):
        return as_array(idx) if idx.dtype == np.bool_ else None
    if isinstance(idx, list) and idx:
        flat = idx
        while isinstance(flat, list) and flat:       # nested lists: look at a leaf
            flat = flat[0]
        if isinstance(flat, (bool, np.bool_)):
            m = np.asarray(idx)
            if m.dtype == np.bool_:
                return as_array(m)
    return None


cdef array _masked_read(array a, array mask):
    """a[mask] with numpy's meaning (MLX 0.32 refuses boolean reads): the rows of a at the
    True entries of mask, which covers a's leading dims, in row-major order.  The result's
    length depends on the mask's values, so the mask is evaluated here -- inside vmap,
    where nothing may be evaluated, that raises.  The rows are a gather: differentiable."""
    if mask.ndim == 0 or mask.ndim > a.ndim or mask._shape != a._shape[:mask.ndim]:
        raise IndexError(f"[gather] The boolean mask should have the same shape as the "
                         f"beginning of the indexed array but the mask has shape "
                         f"{_shape_str(mask._shape)} and the array has shape "
                         f"{_shape_str(a._shape)}")
    cdef tuple trailing = a._shape[mask.ndim:]
    rows = np.flatnonzero(np.asarray(mask))
    flat = reshape_op(a, (mask.size,) + trailing)
    return take(flat, as_array(rows.astype(np.int64 if mask.size > 2**31 - 1 else np.int32)),
                0)


cdef str _shape_str(tuple s):
    return "(" + ",".join(str(d) for d in s) + ")"


cdef array _masked_update(array a, array mask, object val):
    """a[mask] = val as MLX defines it: mask matches a's leading dims; a value with one more
    dim than the unmasked trailing dims is a run of rows taken in order by the masked
    positions, a smaller one is broadcast to every masked position."""
    cdef str op = "masked_scatter"
    if mask.ndim > a.ndim:
        raise ValueError(f"[{op}] The mask cannot have more dimensions than the target.")
    if mask._shape != a._shape[:mask.ndim]:
        raise ValueError(f"[{op}] The boolean mask should have the same shape as the beginning "
                         f"of the indexed array but the mask has shape "
                         f"{_shape_str(mask._shape)} and the array has shape "
                         f"{_shape_str(a._shape)}")
    cdef tuple trailing = a._shape[mask.ndim:]
    cdef int k = len(trailing)
    cdef array v = <array>val if isinstance(val, array) else to_array_like(val, a)
    v = astype_op(v, a.dtype)
    if v.ndim > k + 1:
        raise ValueError(f"[{op}] Value array shape must be broadcastable with the last {k} "
                         f"dimensions of the input.")
    if v.ndim == k + 1:
        rows = v._shape[0]
    else:
        v = reshape_op(v, (1,) * (k + 1 - v.ndim) + v._shape)
        rows = mask.size
    cdef tuple target = (rows,) + trailing
    try:
        b = broadcast_shapes2(v._shape, target, "broadcast_shapes")
    except ValueError:
        b = None
    if b != target:
        raise ValueError(f"[broadcast_shapes] Shapes {_shape_str(v._shape)} and "
                         f"{_shape_str(target)} cannot be broadcast.")
    cdef array src = reshape_op(broadcast_to_op(v, target), (rows * _prod(trailing),))
    cdef array m = broadcast_to_op(reshape_op(mask, mask._shape + (1,) * k), a._shape)
    return new_node(a.dtype, a._shape, MaskedScatter(0), (a, m, src))


cdef long long _prod(tuple s):
    cdef long long n = 1
    for d in s:
        n *= d
    return n


cdef int _reject_mixed_mask(object idx, str op) except -1:
    """A boolean mask combined with other index entries: MLX has no meaning for it."""
    if isinstance(idx, tuple) and len(idx) > 1:
        for e in idx:
            if _as_mask(e) is not None and not isinstance(e, bool):
                raise ValueError(f"[{op}] A boolean mask cannot be combined with other "
                                 f"indices; got the index {idx!r}.")
    return 0


def _setitem(old, idx, val):
    # array.__setitem__ redirects readers of the assigned object (a[1:] = a[:-1]) to old.
    mask = _as_mask(idx)
    if mask is not None:
        return _masked_update(<array>old, <array>mask, val)
    _reject_mixed_mask(idx, "masked_scatter")
    return _update(<array>old, idx, val, MLXC_SCATTER_PLAIN, "scatter")


cdef object _as_value(object v):
    return as_array(v) if isinstance(v, (list, tuple, np.ndarray)) else v


class ArrayAt:
    """A helper object to apply updates at specific indices: a.at[idx].add(v) and
    friends, out of place, where repeated indices accumulate.  a.at and a.at[idx] are
    both ArrayAt objects, as in MLX."""
    __slots__ = ("_a", "_idx", "_has_idx")

    def __init__(self, *args, **kwargs):
        raise TypeError("mlxc.core.ArrayAt: no constructor defined!")

    def __getitem__(self, idx):
        return _new_at(self._a, idx, True)

    def _apply(self, values, int mode, int binop, str op):
        if not self._has_idx:
            raise ValueError("Must give indices to array.at (e.g. `x.at[0].add(4)`).")
        if self._idx is None or self._idx is Ellipsis:
            # The whole array: MLX applies the plain op, with its type promotion, and
            # keeps the array's shape.
            a = <array>self._a
            r = binary_op(a, values, binop)
            if r._shape != a._shape:
                try:
                    b = broadcast_shapes2(r._shape, a._shape, op)
                except ValueError:
                    b = None
                if b != a._shape:
                    raise ValueError(f"Cannot broadcast array of shape {_shape_str(r._shape)} "
                                     f"into shape {_shape_str(a._shape)}.")
                r = broadcast_to_op(r, a._shape)
            return r
        return _update(self._a, self._idx, values, mode, op)

    def add(self, values):
        return self._apply(values, MLXC_SCATTER_ADD, MLXC_ADD, "scatter_add")

    def subtract(self, values):
        if self._idx is None or self._idx is Ellipsis:
            return self._apply(values, MLXC_SCATTER_ADD, MLXC_SUB, "scatter_add")
        # As MLX: the values in the array's dtype, negated (bool raises, unsigned wraps).
        v = _as_value(values)
        if not isinstance(v, array):
            v = astype_op(as_array(v), (<array>self._a).dtype)
        return self.add(-v)

    def multiply(self, values):
        return self._apply(values, MLXC_SCATTER_PROD, MLXC_MUL, "scatter_prod")

    def divide(self, values):
        if self._idx is None or self._idx is Ellipsis:
            return self._apply(values, MLXC_SCATTER_PROD, MLXC_DIV, "scatter_prod")
        v = _as_value(values)
        return self.multiply(1 / v)

    def maximum(self, values):
        return self._apply(values, MLXC_SCATTER_MAX, MLXC_MAXIMUM, "scatter_max")

    def minimum(self, values):
        return self._apply(values, MLXC_SCATTER_MIN, MLXC_MINIMUM, "scatter_min")


cdef object _new_at(object a, object idx, bint has_idx):
    at = ArrayAt.__new__(ArrayAt)
    at._a = a
    at._idx = idx
    at._has_idx = has_idx
    return at


def _at(a):
    return _new_at(a, None, False)


# ---------------------------------------------------------------- gather/scatter ops

def take(a, /, indices, axis=None, *, stream=None):
    """take(a: array, /, indices: int | array, axis: int | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "take")
    cdef array x = as_array(a)
    cdef array idx
    cdef int ax
    if isinstance(indices, array):
        idx = <array>indices
        if not is_integral(idx.dtype):
            raise ValueError(f"[take] Got indices with invalid dtype {dtype_of(idx.dtype)}. "
                             f"Indices must be integral.")
    elif not (PyLong_Check(indices) or isinstance(indices, np.integer)):
        raise TypeError(f"[take] indices must be an int or an array, got "
                        f"{type(indices).__name__}.")
    if axis is None:
        x = reshape_op(x, (x.size,))
        ax = 0
    else:
        if not _is_int(axis):
            raise TypeError(f"[take] Expected an integer axis, got {axis!r}.")
        if axis < -x.ndim or axis >= x.ndim:
            raise IndexError(f"[take] Received invalid axis {axis} for array with {x.ndim} "
                             f"dimensions.")
        ax = axis + x.ndim if axis < 0 else axis
    if not isinstance(indices, array):
        i = _check_int(int(indices), x._shape[ax], ax)
        start = tuple([i if d == ax else 0 for d in range(x.ndim)])
        stop = tuple([i + 1 if d == ax else x._shape[d] for d in range(x.ndim)])
        return reshape_op(slice_op(x, start, stop, (1,) * x.ndim),
                          x._shape[:ax] + x._shape[ax + 1:])
    # No up-front check: the gather kernel checks every index as it reads it
    # and reports the first bad one with the same message.
    return new_node(x.dtype, x._shape[:ax] + idx._shape + x._shape[ax + 1:],
                    Gather(ax, 1, ax, "take"), (x, _gather_index(idx)))


cdef tuple _along_shapes(array x, array idx, int ax, str op):
    """Shapes for take/put_along_axis: the index shape broadcast with x off the axis."""
    if idx.ndim != x.ndim:
        raise ValueError(f"[{op}] Indices of dimension {idx.ndim} does not match array of "
                         f"dimension {x.ndim}.")
    ishape = list(idx._shape)
    xshape = list(x._shape)
    ishape[ax] = 1
    xshape[ax] = 1
    b = list(broadcast_shapes2(tuple(ishape), tuple(xshape), op))
    b[ax] = idx._shape[ax]
    src = list(b)
    src[ax] = x._shape[ax]
    return tuple(b), tuple(src)


def take_along_axis(a, /, indices, axis=-1, *, stream=None):
    """take_along_axis(a: array, /, indices: array, axis: int | None = -1, *, stream=None) -> array."""
    scope = on_stream(stream, "take_along_axis")
    cdef array x = as_array(a)
    if not isinstance(indices, array):
        raise TypeError(f"[take_along_axis] indices must be an array, got "
                        f"{type(indices).__name__}.")
    cdef array idx = <array>indices
    if not is_integral(idx.dtype):
        raise ValueError(f"[take_along_axis] Got indices with invalid dtype "
                         f"{dtype_of(idx.dtype)}. Indices must be integral.")
    cdef int ax
    if axis is None:
        x = reshape_op(x, (x.size,))
        ax = 0
    else:
        ax = normalize_axis(axis, x.ndim, "take_along_axis")
    shape, src_shape = _along_shapes(x, idx, ax, "take_along_axis")
    return new_node(x.dtype, shape, TakeAlong(ax, "take_along_axis"),
                    (broadcast_to_op(x, src_shape),
                     broadcast_to_op(_gather_index(idx), shape)))


def put_along_axis(a, /, indices, values, axis=None, *, stream=None):
    """put_along_axis(a: array, /, indices: array, values: array, axis: int | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "put_along_axis")
    cdef array x = as_array(a)
    if not isinstance(indices, array) or not isinstance(values, array):
        raise TypeError("[put_along_axis] indices and values must be arrays, got "
                        f"{type(indices).__name__} and {type(values).__name__}.")
    cdef array idx = <array>indices
    cdef array v = <array>values
    if not is_integral(idx.dtype):
        raise ValueError(f"[put_along_axis] Got indices with invalid dtype "
                         f"{dtype_of(idx.dtype)}. Indices must be integral.")
    cdef int ax
    cdef array dst = x
    if axis is None:
        dst = reshape_op(x, (x.size,))
        idx = reshape_op(idx, (idx.size,))
        ax = 0
    else:
        ax = normalize_axis(axis, x.ndim, "put_along_axis")
        if idx.ndim != x.ndim:
            raise ValueError(f"[put_along_axis] Indices of dimension {idx.ndim} does not "
                             f"match array of dimension {x.ndim}.")
    if axis is None:
        shape = broadcast_shapes2(idx._shape, v._shape, "put_along_axis")
        if len(shape) != 1:
            raise ValueError(f"[put_along_axis] Cannot broadcast values of shape {v._shape} "
                             f"to indices of shape {idx._shape}.")
    else:
        shape = list(broadcast_shapes2(idx._shape, v._shape, "put_along_axis"))
        if len(shape) != x.ndim:
            raise ValueError(f"[put_along_axis] Values of shape {v._shape} have more "
                             f"dimensions than the array {x._shape}.")
        for d in range(x.ndim):
            if d != ax:
                if shape[d] != 1 and shape[d] != x._shape[d]:
                    raise ValueError(f"[put_along_axis] Cannot broadcast indices/values of "
                                     f"shape {tuple(shape)} to the array of shape {x._shape}.")
                shape[d] = x._shape[d]
        shape = tuple(shape)
    _check_index_values(idx, dst._shape[ax], ax, "put_along_axis")
    out = new_node(x.dtype, dst._shape,
                   Scatter(MLXC_SCATTER_PLAIN, ax, 1, True, ax, "put_along_axis"),
                   (dst, broadcast_to_op(astype_op(v, x.dtype), shape),
                    broadcast_to_op(astype_op(idx, MLXC_INT64), shape)))
    return reshape_op(out, x._shape)


cdef tuple _start_axes(array x, object start_indices, object axes, str op):
    if not isinstance(start_indices, array):
        raise TypeError(f"[{op}] start_indices must be an array, got "
                        f"{type(start_indices).__name__}.")
    cdef array s = <array>start_indices
    if not is_integral(s.dtype) or s.dtype == MLXC_BOOL:
        raise ValueError(f"[{op}] Start indices must be integers, got type "
                         f"{dtype_of(s.dtype)}.")
    if s.ndim > 1:
        raise ValueError(f"[{op}] array of starting indices must be zero or one dimensional "
                         f"but has dimension {s.ndim}.")
    axes = tuple(axes)
    if s.ndim == 1 and s.size != len(axes):
        raise ValueError(f"[{op}] Number of starting indices {s.size} does not match number "
                         f"of axes {len(axes)}.")
    norm = []
    for ax in axes:
        if not _is_int(ax) or ax < -x.ndim or ax >= x.ndim:
            raise IndexError(f"[{op}] Invalid axis {ax} for array with dimension {x.ndim}.")
        norm.append(ax + x.ndim if ax < 0 else ax)
    if len(set(norm)) != len(norm):
        raise ValueError(f"[{op}] Repeated axes {axes}.")
    return s, tuple(norm)


def slice(a, start_indices, axes, slice_size, *, stream=None):
    """slice(a: array, start_indices: array, axes: Sequence[int], slice_size: Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "slice")
    cdef array x = as_array(a)
    s, axes = _start_axes(x, start_indices, axes, "slice")
    size = tuple(slice_size)
    if len(size) != x.ndim:
        raise ValueError(f"[slice] Invalid slice size for array with {x.ndim} dimensions.")
    for d in range(x.ndim):
        if not _is_int(size[d]) or size[d] < 0 or size[d] > x._shape[d]:
            raise ValueError(f"[slice] Invalid slice size {size} for array with shape "
                             f"{x._shape}.")
    size = tuple(int(d) for d in size)
    return new_node(x.dtype, size, DynamicSlice(axes), (x, s))


def slice_update(a, update, start_indices, axes, *, stream=None):
    """slice_update(a: array, update: array, start_indices: array, axes: Sequence[int], *, stream=None) -> array."""
    scope = on_stream(stream, "slice_update")
    cdef array x = as_array(a)
    cdef array u = as_array(update)
    s, axes = _start_axes(x, start_indices, axes, "slice_update")
    if u.ndim > x.ndim:
        raise ValueError(f"[slice_update] Update of shape {u._shape} has more dimensions "
                         f"than the array of shape {x._shape}.")
    # As MLX: dims the update lacks span the whole axis unless the axis is listed.
    cdef int k = x.ndim - u.ndim
    region = tuple([1 if d in axes else x._shape[d] for d in range(k)]) + u._shape
    for d in range(x.ndim):
        if region[d] > x._shape[d]:
            raise ValueError(f"[slice_update] Update of shape {u._shape} does not fit in the "
                             f"array of shape {x._shape}.")
    u = broadcast_to_op(reshape_op(astype_op(u, x.dtype), (1,) * k + u._shape), region)
    return new_node(x.dtype, x._shape, SliceUpdate(None, None, axes), (x, u, s))


# ---------------------------------------------------------------- diagonals

cdef tuple _diag_axes(array x, object offset, object axis1, object axis2, str op):
    if x.ndim < 2:
        raise ValueError(f"[{op}] Array must have at least two dimensions, but got {x.ndim} "
                         f"dimensions.")
    for nm, v in (("axis1", axis1), ("axis2", axis2)):
        if not _is_int(v) or v < -x.ndim or v >= x.ndim:
            raise IndexError(f"[{op}] Invalid {nm} {v} for array with {x.ndim} dimensions.")
    a1 = axis1 + x.ndim if axis1 < 0 else int(axis1)
    a2 = axis2 + x.ndim if axis2 < 0 else int(axis2)
    if a1 == a2:
        raise ValueError(f"[{op}] axis1 and axis2 cannot be the same axis ({axis1}).")
    if not _is_int(offset):
        raise TypeError(f"[{op}] offset must be an integer, got {offset!r}.")
    return a1, a2


def diagonal(a, offset=0, axis1=0, axis2=1, stream=None):
    """diagonal(a: array, offset: int = 0, axis1: int = 0, axis2: int = 1, stream=None) -> array."""
    scope = on_stream(stream, "diagonal")
    cdef array x = as_array(a)
    a1, a2 = _diag_axes(x, offset, axis1, axis2, "diagonal")
    n1, n2 = x._shape[a1], x._shape[a2]
    # Offsets past the matrix all give an empty diagonal; clamping keeps them in int64.
    off = min(max(int_arg(offset, "diagonal", "offset"), -n1), n2)
    n = max(0, min(n1 - max(0, -off), n2 - max(0, off)))
    shape = tuple([x._shape[d] for d in range(x.ndim) if d != a1 and d != a2]) + (n,)
    return new_node(x.dtype, shape, Diagonal(off, a1, a2), (x,))


def diag(a, /, k=0, *, stream=None):
    """diag(a: array, /, k: int = 0, *, stream=None) -> array."""
    scope = on_stream(stream, "diag")
    cdef array x = as_array(a)
    if x.ndim == 2:
        return diagonal(x, k, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"[diag] array must be 1-D or 2-D, got array with {x.ndim} "
                         f"dimensions.")
    if not _is_int(k):
        raise TypeError(f"[diag] k must be an integer, got {k!r}.")
    k = int_arg(k, "diag", "k")
    n = x._shape[0]
    m = n + abs(k)
    check_nbytes((m, m), x.dtype, "diag")
    z = zeros((m * m,), dtype_of(x.dtype))
    # The k-th diagonal of the flattened m x m matrix is a strided run with step m + 1.
    first = k if k >= 0 else -k * m
    flat = new_node(x.dtype, (m * m,), SliceUpdate((first,), (m + 1,), None), (z, x))
    return reshape_op(flat, (m, m))


def trace(a, /, offset=0, axis1=0, axis2=1, dtype=None, *, stream=None):
    """trace(a: array, /, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Dtype | None = None, *, stream=None) -> array."""
    scope = on_stream(stream, "trace")
    cdef array x = as_array(a)
    d = diagonal(x, offset, axis1, axis2) if x.ndim >= 2 else None
    if d is None:
        raise ValueError(f"[trace] Array must have at least two dimensions, but got {x.ndim} "
                         f"dimensions.")
    if dtype is not None:
        d = astype_op(d, to_dtype(dtype).code)
    return _py_hooks["ops"].sum(d, axis=-1)


_py_hooks["getitem"] = _getitem
_py_hooks["setitem"] = _setitem
_py_hooks["at"] = _at
