"""Index primitives: gather, take_along, scatter, slice updates, dynamic slices, diagonals.

The kernels want contiguous operands; inputs that are not (views, broadcasts) are copied to
a temporary contiguous buffer here, at eval, so op construction never adds copy nodes that
turn out to be unnecessary.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from mlxc._core.allocator cimport Buffer, new_buffer
from mlxc._core.array cimport (ROW_CONTIG, alloc_output, alloc_output_donate, array,
                               share_buffer, update_flags)
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport (MLXC_ERR_INDEX, MLXC_INT64, mlxc_copy, mlxc_scatter,
                                 mlxc_take, mlxc_take_along)
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


cdef inline Buffer contig_or_none(array x, int dtype):
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


cdef int copy_for_update(array out, array dst, list others) except -1:
    """out = dst's values, row-major: take dst's buffer when eval allows and no other input
    reads it, else copy."""
    cdef int st
    cdef bint shared = False
    for o in others:
        if (<array>o).buf is dst.buf:
            shared = True
    if shared:
        alloc_output(out)
    else:
        alloc_output_donate(out, [dst])
        if out.buf is dst.buf:
            return 0
    if out.size == 0:
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
        if v < 0 or v + region[ax] > a.dims[ax]:
            raise IndexError(f"[{op}] Start index {s[i] if start.size > 1 else s[0]} with "
                             f"size {region[ax]} is out of bounds for axis {ax} with size "
                             f"{a.dims[ax]}.")
        out[ax] = v
    return 0


# ---------------------------------------------------------------- primitives

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
                    # x's dims sit right-aligned in the broadcast index dims of the output.
                    for d in range(n):
                        rel = d - self.bpos - (self.bndim - x.ndim)
                        if (d < self.bpos or d >= self.bpos + self.bndim or rel < 0
                                or x.dims[rel] != out.dims[d]):
                            bs[d] = 0
                        else:
                            bs[d] = x.strides[rel]
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

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not IndexLinear:
            return False
        cdef IndexLinear b = <IndexLinear>other
        return (b.kinds == self.kinds and b.sizes == self.sizes and b.strides == self.strides
                and b.starts == self.starts and b.steps == self.steps and b.pos == self.pos
                and b.bpos == self.bpos and b.bndim == self.bndim)


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
        cdef Buffer sb = contig_or_none(src, src.dtype)
        cdef Buffer ib = contig_or_none(idx, MLXC_INT64)
        cdef void *sp = ptr_of(src, sb)
        cdef int64_t *ip = <int64_t *>ptr_of(idx, ib)
        alloc_output(out)
        with nogil:
            st = mlxc_take(src.dtype, out.data(), sp, outer, L, inner, ip, idx.size, &bad)
        if st == MLXC_ERR_INDEX:
            raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis "
                             f"{self.msg_axis} with size {L}.")
        return check_status(st, self.op)

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
        cdef Buffer sb = contig_or_none(src, src.dtype)
        cdef Buffer ib = contig_or_none(idx, MLXC_INT64)
        cdef void *sp = ptr_of(src, sb)
        cdef int64_t *ip = <int64_t *>ptr_of(idx, ib)
        alloc_output(out)
        with nogil:
            st = mlxc_take_along(src.dtype, out.data(), sp, outer, L, inner, ip, nidx, &bad)
        if st == MLXC_ERR_INDEX:
            raise IndexError(f"[{self.op}] Index {bad} is out of bounds for axis {ax} with "
                             f"size {L}.")
        return check_status(st, self.op)

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

    cpdef bint is_equivalent(self, Primitive other):
        if type(other) is not Scatter:
            return False
        cdef Scatter b = <Scatter>other
        return (b.mode == self.mode and b.axis == self.axis and b.naxes == self.naxes
                and b.along == self.along)

    cpdef str name(self):
        return _SCATTER_NAMES[self.mode] + ("Axis" if self.along else "")


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

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Diagonal and (<Diagonal>other).offset == self.offset
                and (<Diagonal>other).axis1 == self.axis1
                and (<Diagonal>other).axis2 == self.axis2)
