"""Index primitives: gather, take_along, scatter, slice updates, dynamic slices, diagonals.

The kernels want contiguous operands; inputs that are not (views, broadcasts) are copied to
a temporary contiguous buffer here, at eval, so op construction never adds copy nodes that
turn out to be unnecessary.
"""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from mlxc._core.allocator cimport Buffer, new_buffer
from mlxc._core.array cimport (ROW_CONTIG, alloc_output, alloc_output_donate, array,
                               new_node, share_buffer, update_flags)
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport (MLXC_ERR_INDEX, MLXC_INT32, MLXC_INT64, MLXC_SCATTER_ADD,
                                 MLXC_SCATTER_MAX, MLXC_SCATTER_MIN, MLXC_SCATTER_PLAIN,
                                 MLXC_SCATTER_PROD, MLXC_BOOL, mlxc_copy, mlxc_masked_scatter,
                                 mlxc_scatter, mlxc_take, mlxc_take_along)
from mlxc._core.primitive cimport Primitive, check_status

_SCATTER_NAMES = ("Scatter", "ScatterAdd", "ScatterProd", "ScatterMax", "ScatterMin")


# ---------------------------------------------------------------- helpers

cdef Buffer copy_strided(array x, int dtype, int ndim, const int64_t *shape,
                         const int64_t *strides):
    """A new row-major buffer holding x's elements seen through (shape, strides), as dtype."""
    cdef int64_t n = 1, s = 1
    cdef int i, st
    for i in range(ndim):
        n *= shape[i]
    cdef Buffer b = new_buffer(<size_t>(n * itemsize(dtype)))
    if n == 0:
        return b
    cdef int64_t *cs = <int64_t *>malloc(max(ndim, 1) * sizeof(int64_t))
    if cs == NULL:
        raise MemoryError()
    for i in range(ndim - 1, -1, -1):
        cs[i] = s
        s *= shape[i]
    with nogil:
        st = mlxc_copy(x.dtype, dtype, b.ptr, cs, x.data(), strides, ndim, shape)
    free(cs)
    check_status(st, "Copy")
    return b


cdef Buffer contig_or_none(array x, int dtype):
    """None when x is already row-contiguous of dtype (use x.data()), else a contiguous copy."""
    if (x.flags & ROW_CONTIG) and x.dtype == dtype:
        return None
    return copy_strided(x, dtype, x.ndim, x.dims, x.strides)


cdef inline void *ptr_of(array x, Buffer b) noexcept:
    return x.data() if b is None else b.ptr


cdef inline int64_t prod(array x, int lo, int hi) noexcept:
    cdef int64_t n = 1
    cdef int i
    for i in range(lo, hi):
        n *= x.dims[i]
    return n


cdef bint alloc_for_update(array out, array dst, list others) except -1:
    """Allocate out for an update of dst: dst's own buffer when eval allows and no other
    input reads it (then 1: out already holds dst's values), else a new one (0)."""
    cdef bint shared = False
    for o in others:
        if (<array>o).buf is dst.buf:
            shared = True
    if shared:
        alloc_output(out)
        return 0
    alloc_output_donate(out, [dst])
    return out.buf is dst.buf


cdef int copy_for_update(array out, array dst, list others) except -1:
    """out = dst's values, row-major: take dst's buffer when eval allows and no other input
    reads it, else copy."""
    cdef int st
    if alloc_for_update(out, dst, others) or out.size == 0:
        return 0
    with nogil:
        st = mlxc_copy(dst.dtype, out.dtype, out.data(), out.strides, dst.data(), dst.strides,
                       dst.ndim, dst.dims)
    return check_status(st, "Copy")


cdef int read_starts(array start, tuple axes, array a, const int64_t *region,
                     int64_t *out, str op) except -1:
    """Per-axis start offsets (0 for unlisted axes) from the start-index array, wrapped and
    checked so the region [start, start + region) fits in a."""
    cdef int i, ax
    cdef int64_t v
    cdef Buffer b = contig_or_none(start, MLXC_INT64)
    cdef int64_t *s = <int64_t *>ptr_of(start, b)
    for i in range(a.ndim):
        out[i] = 0
    for i in range(len(axes)):
        ax = axes[i]
        v = s[i] if start.size > 1 else s[0]
        if v < 0:
            v += a.dims[ax]
        if v < 0 or v > a.dims[ax] - region[ax]:      # (v + region could overflow)
            raise IndexError(f"[{op}] Start index {s[i] if start.size > 1 else s[0]} with "
                             f"size {region[ax]} is out of bounds for axis {ax} with size "
                             f"{a.dims[ax]}.")
        out[ax] = v
    return 0


# ---------------------------------------------------------------- transform rules
#
# Built from mlxc ops and from nodes of the primitives below, so that the rules are themselves
# differentiable and batchable.  Module-level defs (no closures inside cpdef methods).

cdef array _node(object like, tuple shape, Primitive prim, tuple inputs):
    """A new node of prim with like's dtype."""
    return new_node((<array>like).dtype, shape, prim, inputs)


def _rk():
    from mlxc._core.prims import rulekit
    return rulekit


def _front(x, int ax):
    import mlxc.core as mx
    return x if ax <= 0 else mx.moveaxis(x, ax, 0)


def _zeros_of(x):
    import mlxc.core as mx
    return mx.zeros(x.shape, x.dtype)


def _block_size(tuple shape, int axis, int naxes):
    n = 1
    for d in shape[axis:axis + naxes]:
        n *= d
    return n


def _offset_index(idx, long long L):
    """A batched (batch first) linear index into a block of size L, shifted by b * L so
    that it addresses the block with the batch axis merged in front of it."""
    import mlxc.core as mx
    n = idx.shape[0]
    idx = mx.where(idx < 0, idx + L, idx)
    off = mx.reshape(mx.arange(n, dtype=mx.int64) * L, (n,) + (1,) * (idx.ndim - 1))
    return idx + off


def _gather_node(Gather p, int axis, int naxes, src, idx):
    shape = tuple(src.shape[:axis]) + tuple(idx.shape) + tuple(src.shape[axis + naxes:])
    return _node(src, shape, Gather(axis, naxes, p.msg_axis, p.op), (src, idx))


def _scatter_node(Scatter p, int mode, int axis, int naxes, dst, upd, idx):
    return _node(dst, tuple(dst.shape), Scatter(mode, axis, naxes, p.along, p.msg_axis, p.op),
                 (dst, _rk().cast_like(upd, dst), idx))


def _scatter_gather(Scatter p, x, idx, shape):
    """x read at the scatter's positions: the values the updates land on (shape of upd)."""
    if p.along:
        return _node(x, tuple(shape), TakeAlong(p.axis, p.op), (x, idx))
    return _node(x, tuple(shape), Gather(p.axis, p.naxes, p.msg_axis, p.op), (x, idx))


def _batch_index_tuple(a, int ndim, tuple dims, tuple region, tuple dyn_axes, start, int n):
    """Advanced-index arrays addressing, for each batch element b of a (batch first), the
    region of shape `region` starting at start[b] on dyn_axes (0 elsewhere)."""
    import mlxc.core as mx
    r = ndim + 1
    idx = [mx.reshape(mx.arange(n, dtype=mx.int64), (n,) + (1,) * ndim)]
    start = start.astype(mx.int64)
    for d in range(ndim):
        shp = [1] * r
        shp[d + 1] = region[d]
        base = mx.reshape(mx.arange(region[d], dtype=mx.int64), tuple(shp))
        if d in dyn_axes:
            col = start if start.ndim == 1 else start[:, dyn_axes.index(d)]
            col = mx.where(col < 0, col + dims[d], col)
            base = base + mx.reshape(col, (n,) + (1,) * ndim)
        idx.append(base)
    return tuple(idx)


# Gather

def _no_index_derivative(str op, str rule, list argnums, int index_input):
    """MLX's error for differentiating with respect to an integer index input."""
    if index_input in argnums:
        raise ValueError(f"[{op}] Cannot calculate {rule} with respect to indices. Use "
                         f"stop_gradient on indices to stop gradients from being computed.")


def _scatter_add_vjp(Scatter scat, list primals, list cots, list argnums):
    """vjp of a gather (plain or along an axis): the cotangent scatter-added back into
    zeros at the gathered positions, by the matching Scatter; the indices get zeros."""
    src, idx = primals[0], primals[1]
    return [_node(src, tuple(src.shape), scat,
                  (_zeros_of(src), _rk().cast_like(cots[0], src), idx))
            if a == 0 else _zeros_of(primals[a]) for a in argnums]


def _gather_vjp(Gather p, list primals, list cots, list argnums):
    _no_index_derivative("gather", "VJP", argnums, 1)
    return _scatter_add_vjp(Scatter(MLXC_SCATTER_ADD, p.axis, p.naxes, False, p.msg_axis, p.op),
                            primals, cots, argnums)


def _gather_jvp(Gather p, list primals, list tangents, list argnums, list outputs):
    _no_index_derivative("gather", "JVP", argnums, 1)
    for k, a in enumerate(argnums):
        if a == 0:
            return [_gather_node(p, p.axis, p.naxes, tangents[k], primals[1])]
    return [_zeros_of(outputs[0])]


def _gather_vmap(Gather p, list inputs, list axes):
    src, idx = inputs[0], inputs[1]
    cdef int sa = axes[0], ia = axes[1], ax = p.axis
    if sa < 0 and ia < 0:
        return [_gather_node(p, ax, p.naxes, src, idx)], [-1]
    if ia < 0:
        return [_gather_node(p, ax + 1, p.naxes, _front(src, sa), idx)], [0]
    idx = _front(idx, ia)
    if sa < 0:
        return [_gather_node(p, ax, p.naxes, src, idx)], [ax]
    import mlxc.core as mx
    src = _front(src, sa)
    L = _block_size(tuple(src.shape), ax + 1, p.naxes)
    if ax > 0:
        src = mx.moveaxis(src, 0, ax)
    return [_gather_node(p, ax, p.naxes + 1, src, _offset_index(idx, L))], [ax]


# TakeAlong

def _take_along_vjp(TakeAlong p, list primals, list cots, list argnums):
    _no_index_derivative("gather_axis", "VJP", argnums, 1)
    return _scatter_add_vjp(Scatter(MLXC_SCATTER_ADD, p.axis, 1, True, p.axis, p.op),
                            primals, cots, argnums)


def _take_along_jvp(TakeAlong p, list primals, list tangents, list argnums, list outputs):
    _no_index_derivative("gather_axis", "JVP", argnums, 1)
    for k, a in enumerate(argnums):
        if a == 0:
            idx = primals[1]
            return [_node(tangents[k], tuple(idx.shape), TakeAlong(p.axis, p.op),
                          (tangents[k], idx))]
    return [_zeros_of(outputs[0])]


def _take_along_vmap(TakeAlong p, list inputs, list axes, list outputs):
    rk = _rk()
    n = rk.batch_size(inputs, axes)
    if n is None:
        return [_node(inputs[0], tuple(outputs[0].shape), TakeAlong(p.axis, p.op),
                      (inputs[0], inputs[1]))], [-1]
    src = rk.materialize_batch(inputs[0], axes[0], n)
    idx = rk.materialize_batch(inputs[1], axes[1], n)
    return [_node(src, tuple(idx.shape), TakeAlong(p.axis + 1, p.op), (src, idx))], [0]


# Scatter

def _scatter_vjp(Scatter p, list primals, list cots, list argnums, list outputs):
    import mlxc.core as mx
    dst, upd, idx = primals[0], primals[1], primals[2]
    _no_index_derivative("scatter_axis" if p.along else "scatter", "VJP", argnums, 2)
    cot = _rk().cast_like(cots[0], dst)
    res = []
    for a in argnums:
        if a == 2:
            res.append(_zeros_of(idx))
            continue
        if p.mode == MLXC_SCATTER_PROD:
            raise RuntimeError("[scatter] VJP not implemented for scatter_prod")
        if a == 0:
            if p.mode == MLXC_SCATTER_PLAIN:
                # The written positions no longer depend on dst.
                g = _scatter_node(p, MLXC_SCATTER_PLAIN, p.axis, p.naxes, cot,
                                  mx.zeros(upd.shape, cot.dtype), idx)
            elif p.mode == MLXC_SCATTER_ADD:
                g = cot
            else:
                # max/min: every input equal to the result gets the cotangent (as MLX).
                g = mx.where(mx.equal(dst, outputs[0]), cot, mx.zeros_like(cot))
        else:
            g = _scatter_gather(p, cot, idx, upd.shape)
            if p.mode == MLXC_SCATTER_MAX or p.mode == MLXC_SCATTER_MIN:
                won = mx.equal(upd, _scatter_gather(p, outputs[0], idx, upd.shape))
                g = mx.where(won, g, mx.zeros_like(g))
            g = _rk().cast_like(g, upd)
        res.append(g)
    return res


def _update_tangents(list tangents, list argnums):
    """(tangent of the destination, tangent of the update) of an update primitive
    (Scatter, SliceUpdate: inputs 0 and 1), None where that input is not active."""
    td = tu = None
    for k, a in enumerate(argnums):
        if a == 0:
            td = tangents[k]
        elif a == 1:
            tu = tangents[k]
    return td, tu


def _scatter_jvp(Scatter p, list primals, list tangents, list argnums, list outputs):
    import mlxc.core as mx
    dst, upd, idx = primals[0], primals[1], primals[2]
    _no_index_derivative("scatter_axis" if p.along else "scatter", "JVP", argnums, 2)
    td, tu = _update_tangents(tangents, argnums)
    if td is None and tu is None:
        return [_zeros_of(outputs[0])]
    if p.mode == MLXC_SCATTER_PROD:
        raise RuntimeError("[scatter] JVP not implemented for scatter_prod")
    td = _zeros_of(dst) if td is None else _rk().cast_like(td, dst)
    tu = mx.zeros(upd.shape, dst.dtype) if tu is None else _rk().cast_like(tu, dst)
    if p.mode == MLXC_SCATTER_PLAIN or p.mode == MLXC_SCATTER_ADD:
        return [_scatter_node(p, p.mode, p.axis, p.naxes, td, tu, idx)]
    # max/min: the tangent of every input equal to the result (the transpose of the vjp).
    out = outputs[0]
    td = mx.where(mx.equal(dst, out), td, mx.zeros_like(td))
    won = mx.equal(upd, _scatter_gather(p, out, idx, upd.shape))
    tu = mx.where(won, tu, mx.zeros_like(tu))
    return [_scatter_node(p, MLXC_SCATTER_ADD, p.axis, p.naxes, td, tu, idx)]


def _scatter_vmap(Scatter p, list inputs, list axes, list outputs):
    import mlxc.core as mx
    rk = _rk()
    n = rk.batch_size(inputs, axes)
    dst, upd, idx = inputs[0], inputs[1], inputs[2]
    cdef int ax = p.axis
    if n is None:
        return [_scatter_node(p, p.mode, ax, p.naxes, dst, upd, idx)], [-1]
    dst = rk.materialize_batch(dst, axes[0], n)
    upd = rk.materialize_batch(upd, axes[1], n)
    if p.along:
        idx = rk.materialize_batch(idx, axes[2], n)
        return [_scatter_node(p, p.mode, ax + 1, 1, dst, upd, idx)], [0]
    if axes[2] < 0:
        return [_scatter_node(p, p.mode, ax + 1, p.naxes, dst, upd, idx)], [0]
    # Batched indices: merge the batch axis into the front of the block.
    L = _block_size(tuple(dst.shape), ax + 1, p.naxes)
    idx = _offset_index(_front(idx, axes[2]), L)
    if ax > 0:
        dst = mx.moveaxis(dst, 0, ax)
        upd = mx.moveaxis(upd, 0, ax)
    return [_scatter_node(p, p.mode, ax, p.naxes + 1, dst, upd, idx)], [ax]


# SliceUpdate

def _slice_update_node(SliceUpdate p, dst, upd, start, tuple st=None, tuple sp=None,
                       tuple dyn=None):
    upd = _rk().cast_like(upd, dst)
    if p.dyn_axes is None:
        return _node(dst, tuple(dst.shape), SliceUpdate(p.start if st is None else st,
                                                        p.step if sp is None else sp, None),
                     (dst, upd))
    return _node(dst, tuple(dst.shape),
                 SliceUpdate(None, None, p.dyn_axes if dyn is None else dyn),
                 (dst, upd, start))


def _slice_update_vjp(SliceUpdate p, list primals, list cots, list argnums):
    import mlxc.core as mx
    from mlxc._core.ops.shape import slice_op
    dst, upd = primals[0], primals[1]
    start = primals[2] if len(primals) > 2 else None
    if 2 in argnums:
        raise ValueError("[DynamicSliceUpdate::vjp] Not supported for start indices")
    cot = _rk().cast_like(cots[0], dst)
    res = []
    for a in argnums:
        if a == 0:
            res.append(_slice_update_node(p, cot, mx.zeros(upd.shape, cot.dtype), start))
        elif a == 1:
            if p.dyn_axes is None:
                stop = tuple([p.start[i] + upd.shape[i] * p.step[i] for i in range(dst.ndim)])
                g = slice_op(cot, p.start, stop, p.step)
            else:
                g = _node(cot, tuple(upd.shape), DynamicSlice(p.dyn_axes), (cot, start))
            res.append(_rk().cast_like(g, upd))
        else:
            res.append(_zeros_of(primals[a]))
    return res


def _slice_update_jvp(SliceUpdate p, list primals, list tangents, list argnums, list outputs):
    import mlxc.core as mx
    dst, upd = primals[0], primals[1]
    start = primals[2] if len(primals) > 2 else None
    if 2 in argnums:
        raise ValueError("[DynamicSliceUpdate::jvp] Not supported for start indices")
    td, tu = _update_tangents(tangents, argnums)
    if td is None and tu is None:
        return [_zeros_of(outputs[0])]
    td = _zeros_of(dst) if td is None else _rk().cast_like(td, dst)
    tu = mx.zeros(upd.shape, dst.dtype) if tu is None else tu
    return [_slice_update_node(p, td, tu, start)]


def _slice_update_vmap(SliceUpdate p, list inputs, list axes, list outputs):
    rk = _rk()
    n = rk.batch_size(inputs, axes)
    dst, upd = inputs[0], inputs[1]
    start = inputs[2] if len(inputs) > 2 else None
    if n is None:
        return [_slice_update_node(p, dst, upd, start)], [-1]
    dst = rk.materialize_batch(dst, axes[0], n)
    upd = rk.materialize_batch(upd, axes[1], n)
    if p.dyn_axes is None:
        return [_slice_update_node(p, dst, upd, None, (0,) + p.start, (1,) + p.step)], [0]
    if axes[2] < 0:
        dyn = tuple([d + 1 for d in p.dyn_axes])
        return [_slice_update_node(p, dst, upd, start, dyn=dyn)], [0]
    # Batched starts: a scatter at explicit per-batch positions.
    from mlxc._core.ops.index import _setitem
    shape = tuple(outputs[0].shape)
    region = tuple(upd.shape[1:])
    idx = _batch_index_tuple(dst, len(shape), shape, region, p.dyn_axes,
                             _front(start, axes[2]), n)
    return [_setitem(dst, idx, upd)], [0]


# MaskedScatter

_MASK_GRAD = ("[masked_scatter] Cannot calculate {} with respect to mask. Use stop_gradient on "
              "mask to stop gradients from being computed.")


def _masked_scatter_node(MaskedScatter p, int nb, dst, mask, src):
    return _node(dst, tuple(dst.shape), MaskedScatter(nb), (dst, mask, _rk().cast_like(src, dst)))


def _masked_gather(MaskedScatter p, x, mask, tuple src_shape):
    """The transpose of the scatter: for each batch row, the k-th masked element of x goes
    to position k of a zero array of src_shape (positions past the mask's count stay 0)."""
    import mlxc.core as mx
    cdef int nb = p.nbatch
    B = _block_size(tuple(x.shape), 0, nb)
    m = src_shape[-1]
    if m == 0 or x.size == 0:
        return mx.zeros(src_shape, x.dtype)
    mk = mx.reshape(mask, (B, -1))
    xk = mx.reshape(x, (B, -1))
    pos = mx.where(mk, mx.cumsum(mk.astype(mx.int64), axis=1) - 1, 0)
    upd = mx.where(mk, xk, mx.zeros_like(xk))
    g = _node(x, (B, m), Scatter(MLXC_SCATTER_ADD, 1, 1, True, 1, "masked_scatter"),
              (mx.zeros((B, m), x.dtype), upd, pos))
    return mx.reshape(g, src_shape)


def _masked_scatter_vjp(MaskedScatter p, list primals, list cots, list argnums):
    import mlxc.core as mx
    dst, mask, src = primals[0], primals[1], primals[2]
    cot = _rk().cast_like(cots[0], dst)
    res = []
    for a in argnums:
        if a == 0:
            res.append(mx.where(mask, mx.zeros_like(cot), cot))
        elif a == 1:
            raise ValueError(_MASK_GRAD.format("VJP"))
        else:
            res.append(_rk().cast_like(_masked_gather(p, cot, mask, tuple(src.shape)), src))
    return res


def _masked_scatter_jvp(MaskedScatter p, list primals, list tangents, list argnums,
                        list outputs):
    import mlxc.core as mx
    dst, mask, src = primals[0], primals[1], primals[2]
    td = ts = None
    for k, a in enumerate(argnums):
        if a == 0:
            td = tangents[k]
        elif a == 1:
            raise ValueError(_MASK_GRAD.format("JVP"))
        else:
            ts = tangents[k]
    if td is None and ts is None:
        return [_zeros_of(outputs[0])]
    td = _zeros_of(dst) if td is None else _rk().cast_like(td, dst)
    ts = mx.zeros(src.shape, dst.dtype) if ts is None else ts
    return [_masked_scatter_node(p, p.nbatch, td, mask, ts)]


def _masked_scatter_vmap(MaskedScatter p, list inputs, list axes, list outputs):
    rk = _rk()
    n = rk.batch_size(inputs, axes)
    if n is None:
        return [_masked_scatter_node(p, p.nbatch, inputs[0], inputs[1], inputs[2])], [-1]
    dst, mask, src = [rk.materialize_batch(x, ax, n) for x, ax in zip(inputs, axes)]
    return [_masked_scatter_node(p, p.nbatch + 1, dst, mask, src)], [0]


# DynamicSlice

def _dynamic_slice_vjp(DynamicSlice p, list primals, list cots, list argnums):
    if 1 in argnums:
        raise ValueError("[DynamicSlice::vjp] Not supported for start indices.")
    a, start = primals[0], primals[1]
    res = []
    for k in argnums:
        if k == 0:
            res.append(_node(a, tuple(a.shape), SliceUpdate(None, None, p.dyn_axes),
                             (_zeros_of(a), _rk().cast_like(cots[0], a), start)))
        else:
            res.append(_zeros_of(primals[k]))
    return res


def _dynamic_slice_jvp(DynamicSlice p, list primals, list tangents, list argnums,
                       list outputs):
    if 1 in argnums:
        raise ValueError("[DynamicSlice::jvp] Not supported for start indices.")
    for k, a in enumerate(argnums):
        if a == 0:
            return [_node(tangents[k], tuple(outputs[0].shape), DynamicSlice(p.dyn_axes),
                          (tangents[k], primals[1]))]
    return [_zeros_of(outputs[0])]


def _dynamic_slice_vmap(DynamicSlice p, list inputs, list axes, list outputs):
    a, start = inputs[0], inputs[1]
    shape = tuple(outputs[0].shape)
    if axes[0] < 0 and axes[1] < 0:
        return [_node(a, shape, DynamicSlice(p.dyn_axes), (a, start))], [-1]
    if axes[1] < 0:
        dyn = tuple([d + 1 for d in p.dyn_axes])
        return [_node(a, (a.shape[axes[0]],) + shape, DynamicSlice(dyn),
                      (_front(a, axes[0]), start))], [0]
    # Batched starts: a gather at explicit per-batch positions.
    n = start.shape[axes[1]]
    a = _rk().materialize_batch(a, axes[0], n)
    dims = tuple(a.shape[1:])
    idx = _batch_index_tuple(a, len(dims), dims, shape, p.dyn_axes, _front(start, axes[1]), n)
    return [a[idx]], [0]


# Diagonal

def _diagonal_vjp(Diagonal p, list primals, list cots, list argnums, list outputs):
    import mlxc.core as mx
    a = primals[0]
    cdef int nd = a.ndim, k
    others = [d for d in range(nd) if d != p.axis1 and d != p.axis2]
    perm = others + [p.axis1, p.axis2]
    n1, n2 = a.shape[p.axis1], a.shape[p.axis2]
    zs = tuple([a.shape[d] for d in others]) + (n1, n2)
    n = outputs[0].shape[-1]
    i0 = max(0, -p.offset)
    j0 = max(0, p.offset)
    lin = mx.arange(n, dtype=mx.int64) * (n2 + 1) + (i0 * n2 + j0)
    g = _node(a, zs, Scatter(MLXC_SCATTER_ADD, len(others), 2, False, None, "diagonal"),
              (mx.zeros(zs, a.dtype), _rk().cast_like(cots[0], a), lin))
    inv = [0] * nd
    for k in range(nd):
        inv[perm[k]] = k
    return [mx.transpose(g, inv)]


def _diagonal_vmap(Diagonal p, list inputs, list axes, list outputs):
    a = inputs[0]
    if axes[0] < 0:
        return [_node(a, tuple(outputs[0].shape), Diagonal(p.offset, p.axis1, p.axis2),
                      (a,))], [-1]
    a = _front(a, axes[0])
    return [_node(a, (a.shape[0],) + tuple(outputs[0].shape),
                  Diagonal(p.offset, p.axis1 + 1, p.axis2 + 1), (a,))], [0]


# IndexLinear

def _index_linear_vmap(IndexLinear p, list inputs, list axes, list outputs):
    import mlxc.core as mx
    rk = _rk()
    n = rk.batch_size(inputs, axes)
    shape = tuple(outputs[0].shape)
    if n is None:
        return [new_node(MLXC_INT64, shape, p, tuple(inputs))], [-1]
    # The batch becomes a new leading dim of the broadcast index shape.
    new = []
    for x, ax in zip(inputs, axes):
        if ax >= 0:
            x = _front(x, ax)
            x = mx.reshape(x, (n,) + (1,) * (p.bndim - (x.ndim - 1)) + tuple(x.shape[1:]))
        new.append(x)
    # Range dims after the broadcast index dims move one place right (none lie inside them).
    pos = tuple([q + 1 if k < 0 and q >= p.bpos else q for q, k in zip(p.pos, p.kinds)])
    prim = IndexLinear(p.kinds, p.sizes, p.strides, p.starts, p.steps, pos, p.bpos,
                       p.bndim + 1, p.axes, p.op)
    return [new_node(MLXC_INT64, shape[:p.bpos] + (n,) + shape[p.bpos:], prim,
                     tuple(new))], [p.bpos]


# ---------------------------------------------------------------- primitives

cdef void index_strides(IndexLinear p, array x, array out, int n, int64_t *bs) noexcept:
    """Strides of index array x over out's n dims: x's dims sit right-aligned in the
    broadcast index dims of the output (0 elsewhere and where x is broadcast)."""
    cdef int d, rel
    for d in range(n):
        rel = d - p.bpos - (p.bndim - x.ndim)
        if (d < p.bpos or d >= p.bpos + p.bndim or rel < 0 or x.dims[rel] != out.dims[d]):
            bs[d] = 0
        else:
            bs[d] = x.strides[rel]


cdef class IndexLinear(Primitive):
    def __init__(self, tuple kinds, tuple sizes, tuple strides, tuple starts, tuple steps,
                 tuple pos, int bpos, int bndim, tuple axes, str op):
        self.kinds = kinds
        self.sizes = sizes
        self.strides = strides
        self.starts = starts
        self.steps = steps
        self.pos = pos
        self.bpos = bpos
        self.bndim = bndim
        self.axes = axes
        self.op = op

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array out = <array>outputs[0]
        cdef array x
        cdef int j, d, rel, n = out.ndim, bad_found
        cdef int64_t N = out.size, i, size, stride, v, bad = 0, start, step
        cdef int64_t pre, ln, post, c, q, r, val
        cdef int64_t *o
        cdef int64_t *t
        cdef Buffer tmp
        alloc_output(out)
        o = <int64_t *>out.data()
        if N == 0:
            return 0
        memset(o, 0, N * sizeof(int64_t))
        cdef int64_t *bs = <int64_t *>malloc(max(n, 1) * sizeof(int64_t))
        if bs == NULL:
            raise MemoryError()
        try:
            for j in range(len(self.kinds)):
                size = self.sizes[j]
                stride = self.strides[j]
                if self.kinds[j] >= 0:
                    x = <array>inputs[<int>self.kinds[j]]
                    index_strides(self, x, out, n, bs)
                    tmp = copy_strided(x, MLXC_INT64, n, out.dims, bs)
                    t = <int64_t *>tmp.ptr
                    bad_found = 0
                    with nogil:
                        for i in range(N):
                            v = t[i]
                            if v < 0:
                                v += size
                            if v < 0 or v >= size:
                                bad = t[i]
                                bad_found = 1
                                break
                            o[i] += v * stride
                    if bad_found:
                        raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis "
                                         f"{self.axes[j]} with size {size}.")
                else:
                    start = self.starts[j]
                    step = self.steps[j]
                    d = self.pos[j]
                    pre = prod(out, 0, d)
                    ln = out.dims[d]
                    post = prod(out, d + 1, n)
                    with nogil:
                        for i in range(pre):
                            for c in range(ln):
                                val = (start + step * c) * stride
                                q = (i * ln + c) * post
                                for r in range(post):
                                    o[q + r] += val
        finally:
            free(bs)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        # Integer output: no derivative.
        return [_zeros_of(primals[a]) for a in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_zeros_of(outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _index_linear_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not IndexLinear:
            return False
        cdef IndexLinear b = <IndexLinear>other
        return (b.kinds == self.kinds and b.sizes == self.sizes and b.strides == self.strides
                and b.starts == self.starts and b.steps == self.steps and b.pos == self.pos
                and b.bpos == self.bpos and b.bndim == self.bndim)


cdef inline int gather_index_dtype(array idx):
    """The index dtype the gather kernels read: int32 indices as they are (MLX's usual
    index type: no widening pass), anything else widened to int64."""
    return MLXC_INT32 if idx.dtype == MLXC_INT32 else MLXC_INT64


cdef class Gather(Primitive):
    def __init__(self, int axis, int naxes, object msg_axis, str op):
        self.axis = axis
        self.naxes = naxes
        self.msg_axis = msg_axis
        self.op = op

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array src = <array>inputs[0]
        cdef array idx = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int st
        cdef int64_t bad = 0
        cdef int64_t outer = prod(src, 0, self.axis)
        cdef int64_t L = prod(src, self.axis, self.axis + self.naxes)
        cdef int64_t inner = prod(src, self.axis + self.naxes, src.ndim)
        cdef int it = gather_index_dtype(idx)
        cdef Buffer sb = contig_or_none(src, src.dtype)
        cdef Buffer ib = contig_or_none(idx, it)
        cdef void *sp = ptr_of(src, sb)
        cdef void *ip = ptr_of(idx, ib)
        alloc_output(out)
        with nogil:
            st = mlxc_take(src.dtype, out.data(), sp, outer, L, inner, ip, it, idx.size, &bad)
        if st == MLXC_ERR_INDEX:
            raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis "
                             f"{self.msg_axis} with size {L}.")
        return check_status(st, self.op)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _gather_vjp(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _gather_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _gather_vmap(self, inputs, axes)

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Gather and (<Gather>other).axis == self.axis
                and (<Gather>other).naxes == self.naxes)


cdef class TakeAlong(Primitive):
    def __init__(self, int axis, str op):
        self.axis = axis
        self.op = op

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array src = <array>inputs[0]
        cdef array idx = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int st, ax = self.axis
        cdef int64_t bad = 0
        cdef int64_t outer = prod(out, 0, ax), nidx = out.dims[ax]
        cdef int64_t inner = prod(out, ax + 1, out.ndim), L = src.dims[ax]
        cdef int it = gather_index_dtype(idx)
        cdef Buffer sb = contig_or_none(src, src.dtype)
        cdef Buffer ib = contig_or_none(idx, it)
        cdef void *sp = ptr_of(src, sb)
        cdef void *ip = ptr_of(idx, ib)
        alloc_output(out)
        with nogil:
            st = mlxc_take_along(src.dtype, out.data(), sp, outer, L, inner, ip, it, nidx, &bad)
        if st == MLXC_ERR_INDEX:
            raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis {ax} with "
                             f"size {L}.")
        return check_status(st, self.op)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _take_along_vjp(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _take_along_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _take_along_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is TakeAlong and (<TakeAlong>other).axis == self.axis

    cpdef str name(self):
        return "GatherAxis"


cdef class Scatter(Primitive):
    def __init__(self, int mode, int axis, int naxes, bint along, object msg_axis, str op):
        self.mode = mode
        self.axis = axis
        self.naxes = naxes
        self.along = along
        self.msg_axis = msg_axis
        self.op = op

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array dst = <array>inputs[0]
        cdef array upd = <array>inputs[1]
        cdef array idx = <array>inputs[2]
        cdef array out = <array>outputs[0]
        cdef int st, along = self.along
        cdef int64_t bad = 0
        cdef int64_t outer = prod(dst, 0, self.axis)
        cdef int64_t L = prod(dst, self.axis, self.axis + self.naxes)
        cdef int64_t inner = prod(dst, self.axis + self.naxes, dst.ndim)
        cdef int64_t nidx = idx.dims[self.axis] if along else idx.size
        copy_for_update(out, dst, inputs[1:])
        cdef Buffer ub = contig_or_none(upd, out.dtype)
        cdef Buffer ib = contig_or_none(idx, MLXC_INT64)
        cdef void *up = ptr_of(upd, ub)
        cdef int64_t *ip = <int64_t *>ptr_of(idx, ib)
        with nogil:
            st = mlxc_scatter(self.mode, out.dtype, out.data(), up, outer, L, inner, ip, nidx,
                              along, &bad)
        if st == MLXC_ERR_INDEX:
            raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis "
                             f"{self.msg_axis} with size {L}.")
        return check_status(st, self.op)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _scatter_vjp(self, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _scatter_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _scatter_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not Scatter:
            return False
        cdef Scatter b = <Scatter>other
        return (b.mode == self.mode and b.axis == self.axis and b.naxes == self.naxes
                and b.along == self.along)

    cpdef str name(self):
        return _SCATTER_NAMES[self.mode] + ("Axis" if self.along else "")


cdef class MaskedScatter(Primitive):
    def __init__(self, int nbatch):
        self.nbatch = nbatch

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array dst = <array>inputs[0]
        cdef array mask = <array>inputs[1]
        cdef array src = <array>inputs[2]
        cdef array out = <array>outputs[0]
        cdef int st
        cdef int64_t bad = 0
        cdef int64_t outer = prod(dst, 0, self.nbatch)
        cdef int64_t n = prod(dst, self.nbatch, dst.ndim)
        cdef int64_t m = src.dims[src.ndim - 1]
        copy_for_update(out, dst, inputs[1:])
        cdef Buffer mb = contig_or_none(mask, MLXC_BOOL)
        cdef Buffer sb = contig_or_none(src, out.dtype)
        cdef const uint8_t *mp = <const uint8_t *>ptr_of(mask, mb)
        cdef void *sp = ptr_of(src, sb)
        with nogil:
            st = mlxc_masked_scatter(out.dtype, out.data(), mp, sp, outer, n, m, &bad)
        if st == MLXC_ERR_INDEX:
            raise RuntimeError(f"[MaskedScatter::eval_cpu] Source does not have enough "
                               f"elements for mask: {bad} masked entries, {m} source "
                               f"elements.")
        return check_status(st, "masked_scatter")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _masked_scatter_vjp(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _masked_scatter_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _masked_scatter_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is MaskedScatter and (<MaskedScatter>other).nbatch == self.nbatch

    cpdef str name(self):
        return "MaskedScatter"


cdef class SliceUpdate(Primitive):
    def __init__(self, tuple start, tuple step, tuple dyn_axes):
        self.start = start
        self.step = step
        self.dyn_axes = dyn_axes

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array dst = <array>inputs[0]
        cdef array upd = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int i, st, n = dst.ndim
        cdef int64_t off = 0
        copy_for_update(out, dst, inputs[1:])
        if upd.size == 0:
            return 0
        cdef int64_t *rs = <int64_t *>malloc(2 * max(n, 1) * sizeof(int64_t))
        if rs == NULL:
            raise MemoryError()
        cdef int64_t *starts = rs + max(n, 1)
        try:
            if self.dyn_axes is not None:
                read_starts(<array>inputs[2], self.dyn_axes, dst, upd.dims, starts,
                            "slice_update")
                for i in range(n):
                    rs[i] = out.strides[i]
                    off += starts[i] * out.strides[i]
            else:
                for i in range(n):
                    rs[i] = out.strides[i] * <int64_t>self.step[i]
                    off += <int64_t>self.start[i] * out.strides[i]
            with nogil:
                st = mlxc_copy(upd.dtype, out.dtype, out.data() + off * itemsize(out.dtype), rs,
                               upd.data(), upd.strides, n, upd.dims)
        finally:
            free(rs)
        return check_status(st, "SliceUpdate")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _slice_update_vjp(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _slice_update_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _slice_update_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is SliceUpdate and (<SliceUpdate>other).start == self.start
                and (<SliceUpdate>other).step == self.step
                and (<SliceUpdate>other).dyn_axes == self.dyn_axes)


cdef class DynamicSlice(Primitive):
    def __init__(self, tuple dyn_axes):
        self.dyn_axes = dyn_axes

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        cdef int64_t off = 0
        cdef int64_t *starts = <int64_t *>malloc(max(a.ndim, 1) * sizeof(int64_t))
        if starts == NULL:
            raise MemoryError()
        try:
            read_starts(<array>inputs[1], self.dyn_axes, a, out.dims, starts, "slice")
            for i in range(a.ndim):
                if out.dims[i] > 0:
                    off += starts[i] * a.strides[i]
                out.strides[i] = a.strides[i]
        finally:
            free(starts)
        share_buffer(out, a, a.offset + off * itemsize(a.dtype))
        update_flags(out)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _dynamic_slice_vjp(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _dynamic_slice_jvp(self, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _dynamic_slice_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is DynamicSlice and (<DynamicSlice>other).dyn_axes == self.dyn_axes


cdef class Diagonal(Primitive):
    def __init__(self, long long offset, int axis1, int axis2):
        self.offset = offset
        self.axis1 = axis1
        self.axis2 = axis2

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i, j = 0
        cdef int64_t s1 = a.strides[self.axis1], s2 = a.strides[self.axis2], off = 0
        for i in range(a.ndim):
            if i != self.axis1 and i != self.axis2:
                out.strides[j] = a.strides[i]
                j += 1
        out.strides[j] = s1 + s2
        if out.size > 0:
            off = self.offset * s2 if self.offset >= 0 else -self.offset * s1
        share_buffer(out, a, a.offset + off * itemsize(a.dtype))
        update_flags(out)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _diagonal_vjp(self, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        cdef Diagonal p = Diagonal(self.offset, self.axis1, self.axis2)
        return [_node(tangents[0], tuple(outputs[0].shape), p, (tangents[0],))]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _diagonal_vmap(self, inputs, axes, outputs)

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Diagonal and (<Diagonal>other).offset == self.offset
                and (<Diagonal>other).axis1 == self.axis1
                and (<Diagonal>other).axis2 == self.axis2)
