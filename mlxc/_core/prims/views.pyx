"""View primitives.  Their eval copies no data (Reshape copies only when it must)."""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, array, share_buffer, update_flags)
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_copy
from mlxc._core.primitive cimport Primitive, check_status


cdef bint reshape_strides(array a, array out) noexcept:
    """Strides for out viewing a's data without a copy, if a's layout allows it.

    Size-1 dims are dropped from the input first (their strides are meaningless); then
    groups of input and output dims with equal products are matched, each input group
    must be contiguous within itself, and the output group's strides follow from the
    group's innermost stride."""
    cdef int na = 0, nb = out.ndim, i, j, k, i0, j0
    cdef int64_t pa, pb, s
    cdef int64_t ds[64]
    cdef int64_t ss[64]
    if a.ndim > 64:
        return False
    for i in range(a.ndim):
        if a.dims[i] != 1:
            ds[na] = a.dims[i]
            ss[na] = a.strides[i]
            na += 1
    i = 0
    j = 0
    while j < nb:
        if out.dims[j] == 1:
            out.strides[j] = 0
            j += 1
            continue
        if i >= na:
            return False
        i0, j0 = i, j
        pa, pb = ds[i], out.dims[j]
        i += 1
        j += 1
        while pa != pb:
            if pa < pb:
                if i >= na:
                    return False
                pa *= ds[i]
                i += 1
            else:
                while j < nb and out.dims[j] == 1:
                    out.strides[j] = 0
                    j += 1
                if j >= nb:
                    return False
                pb *= out.dims[j]
                j += 1
        for k in range(i0, i - 1):
            if ss[k] != ss[k + 1] * ds[k + 1]:
                return False
        s = ss[i - 1]
        for k in range(j - 1, j0 - 1, -1):
            if out.dims[k] == 1:
                out.strides[k] = 0
                continue
            out.strides[k] = s
            s *= out.dims[k]
    return i == na


cdef class Reshape(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        if a.flags & ROW_CONTIG:
            share_buffer(out, a, a.offset)
            # Row-major strides of out.
            s = 1
            for i in range(out.ndim - 1, -1, -1):
                out.strides[i] = s
                s *= out.dims[i]
        elif out.size == 0:
            alloc_output(out)
            return 0
        elif reshape_strides(a, out):
            share_buffer(out, a, a.offset)
        else:
            return copy_then_view(a, out)
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Reshape

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.reshape(cotangents[0], primals[0].shape)]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.reshape(tangents[0], outputs[0].shape)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        x = _batch_front(inputs[0], axes[0])
        return [mx.reshape(x, (x.shape[0],) + outputs[0].shape)], [0]


cdef int copy_then_view(array a, array out) except -1:
    """out gets a fresh row-major buffer with a's elements in a's row-major order."""
    cdef int st, i
    cdef int64_t s = 1
    cdef int64_t *cs = <int64_t *>malloc(max(a.ndim, 1) * sizeof(int64_t))
    if cs == NULL:
        raise MemoryError()
    for i in range(a.ndim - 1, -1, -1):
        cs[i] = s
        s *= a.dims[i]
    alloc_output(out)
    with nogil:
        st = mlxc_copy(a.dtype, a.dtype, out.data(), cs, a.data(), a.strides, a.ndim, a.dims)
    free(cs)
    return check_status(st, "Reshape")


cdef class Transpose(Primitive):
    def __init__(self, tuple perm):
        self.perm = perm

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        share_buffer(out, a, a.offset)
        for i in range(out.ndim):
            out.strides[i] = a.strides[<int>self.perm[i]]
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Transpose and (<Transpose>other).perm == self.perm

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        import mlxc.core as mx
        inv = [0] * len(self.perm)
        for i, p in enumerate(self.perm):
            inv[p] = i
        return [mx.transpose(cotangents[0], inv)]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.transpose(tangents[0], self.perm)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        x = _batch_front(inputs[0], axes[0])
        return [mx.transpose(x, [0] + [p + 1 for p in self.perm])], [0]


cdef class Slice(Primitive):
    def __init__(self, tuple start, tuple step):
        self.start = start
        self.step = step

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        cdef int64_t off = 0, st
        for i in range(a.ndim):
            st = self.start[i]
            if out.dims[i] > 0:
                off += st * a.strides[i]
            out.strides[i] = a.strides[i] * <int64_t>self.step[i]
        share_buffer(out, a, a.offset + off * itemsize(a.dtype))
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Slice and (<Slice>other).start == self.start
                and (<Slice>other).step == self.step)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_slice_vjp(self, primals[0], cotangents[0])]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [tangents[0][_slices(self, outputs[0].shape)]]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        x = _batch_front(inputs[0], axes[0])
        return [x[(slice(None),) + _slices(self, outputs[0].shape)]], [0]


cdef class Broadcast(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i, k = out.ndim - a.ndim
        share_buffer(out, a, a.offset)
        for i in range(out.ndim):
            if i < k or a.dims[i - k] != out.dims[i]:
                out.strides[i] = 0
            else:
                out.strides[i] = a.strides[i - k]
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Broadcast

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import unbroadcast
        return [unbroadcast(cotangents[0], primals[0].shape)]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.broadcast_to(tangents[0], outputs[0].shape)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return [_broadcast_vmap(inputs[0], axes[0], outputs[0])], [0]


cdef class AsStrided(Primitive):
    def __init__(self, tuple strides, long long offset):
        self.strides = strides
        self.offset = offset

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        # as_strided works on the input's row-major data, as in MLX.
        if not (a.flags & ROW_CONTIG):
            raise ValueError("[as_strided] internal: input must be made contiguous first.")
        share_buffer(out, a, a.offset + self.offset * itemsize(a.dtype))
        for i in range(out.ndim):
            out.strides[i] = self.strides[i]
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is AsStrided and (<AsStrided>other).strides == self.strides
                and (<AsStrided>other).offset == self.offset)

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_as_strided_vjp(self, primals[0], cotangents[0])]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        return [mx.as_strided(tangents[0], outputs[0].shape, self.strides, self.offset)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return [_as_strided_vmap(self, inputs[0], axes[0], outputs[0])], [0]


cdef class View(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        if not (a.flags & ROW_CONTIG):
            raise ValueError("[view] internal: input must be made contiguous first.")
        share_buffer(out, a, a.offset)
        s = 1
        for i in range(out.ndim - 1, -1, -1):
            out.strides[i] = s
            s *= out.dims[i]
        update_flags(out)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is View

    # Reinterpreting bytes has no derivative.
    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _zeros_of(primals)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _zeros_of(outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        x = _batch_front(inputs[0], axes[0])
        return [mx.view(x, outputs[0].dtype)], [0]


cdef class PassThrough(Primitive):
    """The identity: the output is the input's data and derivatives pass straight through.
    StopGradient and Identity specialize it."""
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        share_buffer(out, a, a.offset)
        for i in range(out.ndim):
            out.strides[i] = a.strides[i]
        out.flags = a.flags
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [cotangents[0]]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [tangents[0]]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return [inputs[0]], [axes[0]]


cdef class StopGradient(PassThrough):
    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is StopGradient

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _zeros_of(primals)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _zeros_of(outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        return [mx.stop_gradient(inputs[0])], [axes[0]]


cdef class Identity(PassThrough):
    """The copy of a primal that vjp/jvp/grad trace through: same data, new graph node."""

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Identity


cdef class Depends(Primitive):
    """depends(inputs, dependencies): its outputs are views of the first n inputs (the
    arrays given), and its other inputs are the dependencies, so evaluating an output
    evaluates them first.  Derivatives pass through to the viewed inputs; the
    dependencies get zero cotangents and contribute no tangent."""

    def __init__(self, int n):
        self.n = n

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a, out
        cdef int i, k
        for k in range(self.n):
            a = <array>inputs[k]
            out = <array>outputs[k]
            share_buffer(out, a, a.offset)
            for i in range(out.ndim):
                out.strides[i] = a.strides[i]
            out.flags = a.flags
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Depends and (<Depends>other).n == self.n

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        import mlxc.core as mx
        return [cotangents[i] if i < self.n else mx.zeros_like(primals[i]) for i in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        given = dict(zip(argnums, tangents))
        return [given[i] if i in given else mx.zeros_like(outputs[i]) for i in range(self.n)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        outs = mx.depends(list(inputs[:self.n]), list(inputs[self.n:]))
        return list(outs), list(axes[:self.n])

    cpdef list output_shapes(self, list inputs):
        return [x.shape for x in inputs[:self.n]]


# ---------------------------------------------------------------- transform rules
# Plain functions built from mlxc ops (Cython allows no closures in cpdef methods).

def _batch_front(x, int ax):
    from mlxc._core.prims.rulekit import move_batch_to_front
    return move_batch_to_front(x, ax)


def _slices(Slice p, tuple out_shape):
    """Python slices selecting the Slice primitive's region of its input."""
    idx = []
    for b, s, n in zip(p.start, p.step, out_shape):
        stop = b + s * n
        idx.append(slice(b, stop if stop >= 0 else None, s))
    return tuple(idx)


def _slice_vjp(Slice p, x, g):
    import mlxc.core as mx
    z = mx.zeros(x.shape, g.dtype)
    z[_slices(p, g.shape)] = g
    return z


def _as_strided_indices(AsStrided p, tuple shape):
    """Flat input positions read by each output element."""
    import mlxc.core as mx
    idx = mx.array(p.offset, dtype=mx.int64)
    for d, s in zip(shape, p.strides):
        idx = mx.expand_dims(idx, -1) + mx.arange(d, dtype=mx.int64) * s
    return mx.reshape(idx, shape)


def _as_strided_vjp(AsStrided p, x, g):
    import mlxc.core as mx
    idx = _as_strided_indices(p, g.shape)
    z = mx.zeros((x.size,), g.dtype)
    z = z.at[mx.reshape(idx, (-1,))].add(mx.reshape(g, (-1,)))
    return mx.reshape(z, x.shape)


def _as_strided_vmap(AsStrided p, x, int ax, y):
    import mlxc.core as mx
    x = mx.contiguous(_batch_front(x, ax))
    n = x.size // x.shape[0]
    return mx.as_strided(x, (x.shape[0],) + y.shape, (n,) + p.strides, p.offset)


def _broadcast_vmap(x, int ax, y):
    import mlxc.core as mx
    x = _batch_front(x, ax)
    missing = y.ndim - (x.ndim - 1)
    if missing > 0:
        x = mx.reshape(x, (x.shape[0],) + (1,) * missing + x.shape[1:])
    return mx.broadcast_to(x, (x.shape[0],) + y.shape)


def _zeros_of(list arrays):
    import mlxc.core as mx
    return [mx.zeros(a.shape, a.dtype) for a in arrays]
