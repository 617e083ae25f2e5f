"""Reduction primitives: Reduce, ArgReduce, Scan, Sort and ArgSort.

The kernels work on the LAST dims of a (shape, strides) description, so each eval
permutes the input's dims and strides (no copy) to put the worked-on axes last.
Scan and Sort write rows in that permuted order; their output keeps the buffer and
gets the permuted strides (a valid strided array) instead of being copied back.
"""
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, array, new_empty, new_node,
                               update_flags)
from mlxc._core.kernels cimport *
from mlxc._core.primitive cimport Primitive, check_status

# Work below this many elements runs without releasing the GIL (releasing costs more).
cdef enum:
    NOGIL_SIZE = 16384

_REDUCE_NAMES = ("Sum", "Prod", "Max", "Min", "All", "Any")
_SCAN_NAMES = ("CumSum", "CumProd", "CumMax", "CumMin", "LogCumSumExp")


cdef class Perm:
    """The input's dims and strides reordered by `order`, plus row-major strides of that
    reordered shape (where a kernel writes its contiguous output)."""
    cdef int ndim
    cdef int64_t *shape
    cdef int64_t *strides
    cdef int64_t *cstrides
    cdef int64_t *mem

    def __dealloc__(self):
        free(self.mem)


cdef Perm make_perm(array a, object order):
    cdef Perm P = Perm.__new__(Perm)
    cdef int i, k, nd = a.ndim
    cdef int64_t s = 1
    P.ndim = nd
    P.mem = <int64_t *>malloc(3 * max(nd, 1) * sizeof(int64_t))
    if P.mem == NULL:
        raise MemoryError()
    P.shape = P.mem
    P.strides = P.mem + max(nd, 1)
    P.cstrides = P.mem + 2 * max(nd, 1)
    for i in range(nd):
        k = order[i]
        P.shape[i] = a.dims[k]
        P.strides[i] = a.strides[k]
    for i in range(nd - 1, -1, -1):
        P.cstrides[i] = s
        s *= P.shape[i]
    return P


cdef list axis_last(int ndim, int axis):
    cdef list order = [i for i in range(ndim) if i != axis]
    order.append(axis)
    return order


cdef void set_permuted_strides(array out, Perm P, list order) noexcept:
    """out's buffer holds rows in P's order: give out the strides that read it back."""
    cdef int i
    for i in range(P.ndim):
        out.strides[<int>order[i]] = P.cstrides[i]
    update_flags(out)


cdef class Reduce(Primitive):
    def __init__(self, int op, tuple axes):
        self.op = op
        self.axes = axes

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st, op = self.op, dt = a.dtype, nred = len(self.axes)
        cdef list order = [i for i in range(a.ndim) if i not in self.axes]
        order.extend(self.axes)
        cdef Perm P = make_perm(a, order)
        alloc_output(out)
        if a.size < NOGIL_SIZE:
            st = mlxc_reduce(op, dt, out.data(), a.data(), P.ndim, P.shape, P.strides, nred)
        else:
            with nogil:
                st = mlxc_reduce(op, dt, out.data(), a.data(), P.ndim, P.shape, P.strides, nred)
        return check_status(st, self.name())

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_reduce_vjp(self.op, self.axes, primals[0], cotangents[0], outputs[0])
                for _ in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_reduce_jvp(self.op, self.axes, primals[0], tangents, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef array x = <array>inputs[0]
        cdef int ax = axes[0]
        cdef array y = <array>outputs[0]
        if ax < 0:
            return [new_node(y.dtype, y._shape, self, (x,))], [-1]
        cdef tuple naxes = tuple([a + 1 if a >= ax else a for a in self.axes])
        cdef int below = len([a for a in self.axes if a < ax])
        cdef tuple shape = tuple([x._shape[i] for i in range(x.ndim) if i not in naxes])
        return [new_node(y.dtype, shape, Reduce(self.op, naxes), (x,))], [ax - below]

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Reduce and (<Reduce>other).op == self.op
                and (<Reduce>other).axes == self.axes)

    cpdef str name(self):
        return _REDUCE_NAMES[self.op]


cdef class ArgReduce(Primitive):
    def __init__(self, int op, int axis):
        self.op = op
        self.axis = axis

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st, op = self.op, dt = a.dtype
        cdef Perm P = make_perm(a, axis_last(a.ndim, self.axis))
        alloc_output(out)
        with nogil:
            st = mlxc_argreduce(op, dt, <uint32_t *>out.data(), a.data(), P.ndim, P.shape,
                                P.strides)
        return check_status(st, self.name())

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _index_output_vjp(primals, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _index_output_jvp(outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef array x = <array>inputs[0]
        cdef int ax = axes[0]
        cdef array y = <array>outputs[0]
        if ax < 0:
            return [new_node(y.dtype, y._shape, self, (x,))], [-1]
        cdef int a = self.axis + 1 if self.axis >= ax else self.axis
        cdef tuple shape = tuple([x._shape[i] for i in range(x.ndim) if i != a])
        return ([new_node(y.dtype, shape, ArgReduce(self.op, a), (x,))],
                [ax - 1 if a < ax else ax])

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is ArgReduce and (<ArgReduce>other).op == self.op
                and (<ArgReduce>other).axis == self.axis)

    cpdef str name(self):
        return "ArgMax" if self.op == MLXC_ARGMAX else "ArgMin"


cdef class Scan(Primitive):
    def __init__(self, int op, int axis, bint reverse, bint inclusive):
        self.op = op
        self.axis = axis
        self.reverse = reverse
        self.inclusive = inclusive

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st = MLXC_OK, op = self.op, dt = a.dtype
        cdef bint rev = self.reverse, inc = self.inclusive
        cdef list order = axis_last(a.ndim, self.axis)
        cdef Perm P = make_perm(a, order)
        alloc_output(out)
        if out.size == 0:
            return 0
        with nogil:
            st = mlxc_scan(op, dt, out.data(), a.data(), P.ndim, P.shape, P.strides, rev, inc)
        check_status(st, self.name())
        set_permuted_strides(out, P, order)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return [_scan_vjp(self, primals[0], cotangents[0], outputs[0]) for _ in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        if not argnums:
            return [zeros_cotangent(outputs[0])]
        return [_scan_jvp(self, primals[0], tangents[0], outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef array x = <array>inputs[0]
        cdef int ax = axes[0]
        if ax < 0:
            return [new_node(x.dtype, x._shape, self, (x,))], [-1]
        cdef int a = self.axis + 1 if self.axis >= ax else self.axis
        return [new_node(x.dtype, x._shape, Scan(self.op, a, self.reverse, self.inclusive),
                         (x,))], [ax]

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Scan and (<Scan>other).op == self.op
                and (<Scan>other).axis == self.axis and (<Scan>other).reverse == self.reverse
                and (<Scan>other).inclusive == self.inclusive)

    cpdef str name(self):
        return _SCAN_NAMES[self.op]


# ---------------------------------------------------------------- sorting
# complex64 sorts lexicographically (real part, then imaginary part), which the kernel
# ABI lacks: two stable float32 argsorts (by imag, then by real) give that order.

cdef int complex_argsort_rows(const float *src, uint32_t *idx, int64_t nrows,
                              int64_t n) noexcept nogil:
    cdef int64_t r, k
    cdef int st = MLXC_OK
    cdef const float *row
    cdef uint32_t *out
    cdef float *key = <float *>malloc(n * sizeof(float))
    cdef uint32_t *first = <uint32_t *>malloc(n * sizeof(uint32_t))
    cdef uint32_t *second = <uint32_t *>malloc(n * sizeof(uint32_t))
    if key == NULL or first == NULL or second == NULL:
        st = MLXC_ERR_NOMEM
    else:
        for r in range(nrows):
            row = src + 2 * r * n
            out = idx + r * n
            for k in range(n):
                key[k] = row[2 * k + 1]
            st = mlxc_argsort(MLXC_FLOAT32, first, key, 1, n)
            if st != MLXC_OK:
                break
            for k in range(n):
                key[k] = row[2 * first[k]]
            st = mlxc_argsort(MLXC_FLOAT32, second, key, 1, n)
            if st != MLXC_OK:
                break
            for k in range(n):
                out[k] = first[second[k]]
    free(key)
    free(first)
    free(second)
    return st


cdef int complex_sort_rows(char *data, int64_t nrows, int64_t n) noexcept nogil:
    """Sort contiguous complex64 rows in place (values moved as 8-byte words)."""
    cdef int64_t r, k
    cdef int st
    cdef unsigned long long *row
    cdef uint32_t *idx = <uint32_t *>malloc(nrows * n * sizeof(uint32_t))
    cdef unsigned long long *tmp = <unsigned long long *>malloc(
        n * sizeof(unsigned long long))
    if idx == NULL or tmp == NULL:
        free(idx)
        free(tmp)
        return MLXC_ERR_NOMEM
    st = complex_argsort_rows(<const float *>data, idx, nrows, n)
    if st == MLXC_OK:
        for r in range(nrows):
            row = <unsigned long long *>data + r * n
            for k in range(n):
                tmp[k] = row[idx[r * n + k]]
            memcpy(row, tmp, n * sizeof(unsigned long long))
    free(idx)
    free(tmp)
    return st


cdef class Sort(Primitive):
    def __init__(self, int axis):
        self.axis = axis

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int st, dt = a.dtype
        cdef list order = axis_last(a.ndim, self.axis)
        cdef Perm P = make_perm(a, order)
        cdef int64_t n = a.dims[self.axis], nrows
        cdef int i
        cdef bint rows = dt != MLXC_COMPLEX64
        alloc_output(out)
        if out.size == 0:
            return 0
        nrows = out.size // n
        for i in range(P.ndim):
            if P.shape[i] != 1 and P.strides[i] != P.cstrides[i]:
                rows = False
        with nogil:
            if rows:
                # contiguous rows along the axis: sorted from the input into the output
                st = mlxc_sort_from(dt, out.data(), a.data(), nrows, n)
            else:
                # Rows of the input, axis last, into the output buffer; then sort in place.
                st = mlxc_copy(dt, dt, out.data(), P.cstrides, a.data(), P.strides, P.ndim,
                               P.shape)
            if st == MLXC_OK and not rows:
                if dt == MLXC_COMPLEX64:
                    st = complex_sort_rows(out.data(), nrows, n)
                else:
                    st = mlxc_sort(dt, out.data(), nrows, n)
        check_status(st, "Sort")
        set_permuted_strides(out, P, order)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        # dx = g through the inverse permutation (the argsort of the argsort).
        import mlxc.core as mx
        # The permutations index gathers: computed from stop_gradient(x), so that a
        # second derivative does not ask for one with respect to them.
        cdef array x = <array>mx.stop_gradient(primals[0])
        cdef array p = new_node(MLXC_UINT32, x._shape, ArgSort(self.axis), (x,))
        cdef array inv = new_node(MLXC_UINT32, x._shape, ArgSort(self.axis), (p,))
        return [mx.take_along_axis(cotangents[0], inv, self.axis) for _ in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        from mlxc._core.prims.rulekit import zeros_cotangent
        cdef array x = <array>mx.stop_gradient(primals[0])
        if not argnums:
            return [zeros_cotangent(outputs[0])]
        cdef array p = new_node(MLXC_UINT32, x._shape, ArgSort(self.axis), (x,))
        return [mx.take_along_axis(tangents[0], p, self.axis)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef array x = <array>inputs[0]
        cdef int ax = axes[0]
        if ax < 0:
            return [new_node(x.dtype, x._shape, self, (x,))], [-1]
        cdef int a = self.axis + 1 if self.axis >= ax else self.axis
        return [new_node(x.dtype, x._shape, Sort(a), (x,))], [ax]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Sort and (<Sort>other).axis == self.axis

    cpdef str name(self):
        return "Sort"


cdef class ArgSort(Primitive):
    def __init__(self, int axis):
        self.axis = axis

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef array rows
        cdef int st = MLXC_OK, dt = a.dtype
        cdef list order = axis_last(a.ndim, self.axis)
        cdef Perm P = make_perm(a, order)
        cdef int64_t n = a.dims[self.axis], nrows
        cdef const char *src
        alloc_output(out)
        if out.size == 0:
            return 0
        nrows = out.size // n
        if self.axis == a.ndim - 1 and (a.flags & ROW_CONTIG):
            src = a.data()
        else:
            # The kernel reads contiguous rows: lay the input out axis-last first.
            rows = new_empty(dt, tuple([P.shape[i] for i in range(P.ndim)]))
            with nogil:
                st = mlxc_copy(dt, dt, rows.data(), P.cstrides, a.data(), P.strides, P.ndim,
                               P.shape)
            check_status(st, "ArgSort")
            src = rows.data()
        with nogil:
            if dt == MLXC_COMPLEX64:
                st = complex_argsort_rows(<const float *>src, <uint32_t *>out.data(), nrows, n)
            else:
                st = mlxc_argsort(dt, <uint32_t *>out.data(), src, nrows, n)
        check_status(st, "ArgSort")
        set_permuted_strides(out, P, order)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _index_output_vjp(primals, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _index_output_jvp(outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        cdef array x = <array>inputs[0]
        cdef int ax = axes[0]
        if ax < 0:
            return [new_node(MLXC_UINT32, x._shape, self, (x,))], [-1]
        cdef int a = self.axis + 1 if self.axis >= ax else self.axis
        return [new_node(MLXC_UINT32, x._shape, ArgSort(a), (x,))], [ax]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is ArgSort and (<ArgSort>other).axis == self.axis

    cpdef str name(self):
        return "ArgSort"



# ---------------------------------------------------------------- transform rules
# Built from mlxc ops (and nodes of the primitives above), so that the derivatives are
# themselves differentiable and batchable.

def _index_output_vjp(list primals, list argnums):
    """ArgReduce / ArgSort: integer outputs carry no gradient."""
    from mlxc._core.prims.rulekit import zeros_cotangent
    return [zeros_cotangent(primals[0]) for _ in argnums]


def _index_output_jvp(list outputs):
    from mlxc._core.prims.rulekit import zeros_cotangent
    return [zeros_cotangent(outputs[0])]


def _expand_back(g, axes, shape):
    """g (the kept axes) broadcast back over the reduced axes of `shape`."""
    import mlxc.core as mx
    kshape = tuple([1 if i in axes else d for i, d in enumerate(shape)])
    return mx.broadcast_to(mx.reshape(g, kshape), tuple(shape))


def _prod_others(x, axes):
    """For each element, the product of the other elements of its reduction group: an
    exclusive cumprod times an exclusive reversed cumprod over the (merged) reduced axes,
    exact with any number of zeros (no division)."""
    import mlxc.core as mx
    axes = list(axes)
    if len(axes) == 1:
        a = axes[0]
        return (mx.cumprod(x, axis=a, inclusive=False)
                * mx.cumprod(x, axis=a, reverse=True, inclusive=False))
    kept = [i for i in range(x.ndim) if i not in axes]
    perm = kept + axes
    xt = mx.transpose(x, perm)
    n = 1
    for a in axes:
        n *= x.shape[a]
    xr = mx.reshape(xt, xt.shape[:len(kept)] + (n,))
    o = (mx.cumprod(xr, axis=-1, inclusive=False)
         * mx.cumprod(xr, axis=-1, reverse=True, inclusive=False))
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return mx.transpose(mx.reshape(o, xt.shape), inv)


def _extreme_mask(x, axes, y):
    import mlxc.core as mx
    return mx.equal(x, _expand_back(y, axes, x.shape))


def _reduce_vjp(int op, tuple axes, x, g, y):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, conj_factor, zeros_cotangent
    if op == MLXC_RSUM:
        return cast_like(_expand_back(g, axes, x.shape), x)
    if op == MLXC_RPROD:
        from mlxc._core.prims.rulekit import conj_vjp
        return cast_like(conj_vjp(lambda h: _expand_back(h, axes, x.shape) *
                                  _prod_others(x, axes), g, x), x)
    if op == MLXC_RMAX or op == MLXC_RMIN:
        # As MLX: the cotangent is split evenly between the elements equal to the extreme.
        mask = _extreme_mask(x, axes, y)
        cnt = mx.sum(mask, axis=list(axes), keepdims=True).astype(g.dtype)
        gb = _expand_back(g, axes, x.shape)
        return cast_like(mx.where(mask, gb / cnt, mx.zeros((), gb.dtype)), x)
    return zeros_cotangent(x)                          # all / any


def _reduce_jvp(int op, tuple axes, x, list tangents, y):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, zeros_cotangent
    if not tangents:
        return zeros_cotangent(y)
    t = tangents[0]
    if op == MLXC_RALL or op == MLXC_RANY:
        # As MLX: zeros in the dtype a sum of the tangent has (bool sums to int32).
        return mx.zeros(y.shape, mx.int32 if t.dtype == mx.bool_ else t.dtype)
    axl = list(axes)
    if op == MLXC_RSUM:
        return cast_like(mx.sum(t, axis=axl), y)
    if op == MLXC_RPROD:
        return cast_like(mx.sum(t * _prod_others(x, axes), axis=axl), y)
    # max / min: as MLX, the tangent of the first extreme element (row-major order of the
    # reduced axes).
    mask = _extreme_mask(x, axes, y)
    lin = mx.zeros((), mx.int32)
    stride = 1
    for a in reversed(axl):
        n = x.shape[a]
        shp = [1] * x.ndim
        shp[a] = n
        lin = lin + mx.reshape(mx.arange(n, dtype=mx.int32) * stride, shp)
        stride *= n
    key = mx.where(mask, lin, mx.array(stride, mx.int32))
    first = mx.equal(key, mx.min(key, axis=axl, keepdims=True))
    return cast_like(mx.sum(mx.where(first, t, mx.zeros((), t.dtype)), axis=axl), y)


cdef array _scan_node(int op, int axis, bint reverse, bint inclusive, array x):
    return new_node(x.dtype, x._shape, Scan(op, axis, reverse, inclusive), (x,))


def _axis_iota(x, int axis):
    """int32 positions along axis, shaped to broadcast against x."""
    import mlxc.core as mx
    shp = [1] * x.ndim
    shp[axis] = x.shape[axis]
    return mx.reshape(mx.arange(x.shape[axis], dtype=mx.int32), shp)


def _zero_masks(x, int axis, bint reverse):
    """(before, first): positions before the first zero in scan order, and that zero."""
    import mlxc.core as mx
    z = mx.equal(x, mx.zeros((), x.dtype)).astype(mx.int32)
    c = _scan_node(MLXC_CUMSUM, axis, reverse, True, z)
    return mx.equal(c, 0), mx.logical_and(mx.equal(z, 1), mx.equal(c, 1))


def _owner(x, Scan p, bint inclusive):
    """(owner, valid): for each output of the cummax/cummin scan, the position whose value
    it is (the latest one, in scan order, equal to the running extreme, as MLX)."""
    import mlxc.core as mx
    cdef int ax = p.axis
    x = mx.stop_gradient(x)     # positions are constants (they index a gather)
    y = _scan_node(p.op, ax, p.reverse, True, x)
    mask = mx.equal(x, y)
    iota = _axis_iota(x, ax)
    n = x.shape[ax]
    if p.reverse:
        o = _scan_node(MLXC_CUMMIN, ax, True, inclusive,
                       mx.where(mask, iota, mx.array(n, mx.int32)))
        valid = mx.less(o, n)
        o = mx.minimum(o, n - 1)
    else:
        o = _scan_node(MLXC_CUMMAX, ax, False, inclusive,
                       mx.where(mask, iota, mx.array(-1, mx.int32)))
        valid = mx.greater_equal(o, 0)
        o = mx.maximum(o, 0)
    return o, valid, mask


def _signed_logs(g):
    """(log g+, log g-): logs of the positive and negative parts, -inf where absent."""
    import mlxc.core as mx
    ninf = mx.array(-float("inf"), g.dtype)
    zero = mx.zeros((), g.dtype)
    pos = mx.where(mx.greater(g, zero), mx.log(mx.where(mx.greater(g, zero), g, 1)), ninf)
    neg = mx.where(mx.less(g, zero), mx.log(mx.where(mx.less(g, zero), -g, 1)), ninf)
    return pos, neg


def _scan_vjp(Scan p, x, g, y):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    cdef int op = p.op, ax = p.axis
    cdef bint rev = p.reverse, inc = p.inclusive
    g = cast_like(g, x)
    if op == MLXC_CUMSUM:
        return _scan_node(MLXC_CUMSUM, ax, not rev, inc, g)
    if op == MLXC_CUMPROD:
        # dx_j = sum_{i >= j} g_i prod_{k <= i, k != j} x_k (in scan order), exact with
        # zeros: before the first zero divide by x_j; at the first zero use the scan of x
        # with that zero replaced by one; after it the derivative is zero.
        # (Complex input: MLX takes no conjugate here, unlike its other vjps.)
        before, first = _zero_masks(x, ax, rev)
        one = mx.ones((), x.dtype)
        y1 = _scan_node(MLXC_CUMPROD, ax, rev, inc, mx.where(first, one, x))
        a = _scan_node(MLXC_CUMSUM, ax, not rev, inc, g * y)
        b = _scan_node(MLXC_CUMSUM, ax, not rev, inc, g * y1)
        zero = mx.zeros((), x.dtype)
        return cast_like(mx.where(before, a / mx.where(before, x, one),
                                  mx.where(first, b, zero)), x)
    if op == MLXC_CUMMAX or op == MLXC_CUMMIN:
        # Each output's cotangent goes to the position that set the running extreme; a
        # position's total is the sum of g over its run, a difference of reversed cumsums.
        # (Positions are constants: no derivative may flow into the gather's indices.)
        xs = mx.stop_gradient(x)
        mask = mx.equal(xs, _scan_node(op, ax, rev, True, xs))
        c = _scan_node(MLXC_CUMSUM, ax, not rev, inc, g)
        iota = _axis_iota(x, ax)
        n = x.shape[ax]
        zero = mx.zeros((), g.dtype)
        # The next position after j (in scan order) that starts a new run.
        if rev:
            nxt = _scan_node(MLXC_CUMMAX, ax, False, False,
                             mx.where(mask, iota, mx.array(-1, mx.int32)))
            has = mx.greater_equal(nxt, 0)
            nxt = mx.maximum(nxt, 0)
        else:
            nxt = _scan_node(MLXC_CUMMIN, ax, True, False,
                             mx.where(mask, iota, mx.array(n, mx.int32)))
            has = mx.less(nxt, n)
            nxt = mx.minimum(nxt, n - 1)
        cn = mx.where(has, mx.take_along_axis(c, nxt, ax), zero)
        return cast_like(mx.where(mask, c - cn, zero), x)
    # logcumsumexp: dx_j = sum_{i >= j} g_i exp(x_j - y_i), summed in the log domain over
    # the positive and negative parts of g (stable for any magnitudes).
    ninf = mx.array(-float("inf"), x.dtype)
    dead = mx.equal(y, ninf)
    lp, ln = _signed_logs(g)
    sp = _scan_node(MLXC_LOGCUMSUMEXP, ax, not rev, inc, mx.where(dead, ninf, lp - y))
    sn = _scan_node(MLXC_LOGCUMSUMEXP, ax, not rev, inc, mx.where(dead, ninf, ln - y))
    return cast_like(mx.exp(x + sp) - mx.exp(x + sn), x)


def _scan_jvp(Scan p, x, t, y):
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    cdef int op = p.op, ax = p.axis
    cdef bint rev = p.reverse, inc = p.inclusive
    t = cast_like(t, x)
    zero = mx.zeros((), x.dtype)
    if op == MLXC_CUMSUM:
        return _scan_node(MLXC_CUMSUM, ax, rev, inc, t)
    if op == MLXC_CUMPROD:
        before, first = _zero_masks(x, ax, rev)
        one = mx.ones((), x.dtype)
        y1 = _scan_node(MLXC_CUMPROD, ax, rev, inc, mx.where(first, one, x))
        a = _scan_node(MLXC_CUMSUM, ax, rev, inc,
                       mx.where(before, t / mx.where(before, x, one), zero))
        b = _scan_node(MLXC_CUMSUM, ax, rev, inc, mx.where(first, t, zero))
        return cast_like(y * a + y1 * b, y)
    if op == MLXC_CUMMAX or op == MLXC_CUMMIN:
        o, valid, mask = _owner(x, p, inc)
        return cast_like(mx.where(valid, mx.take_along_axis(t, o, ax), zero), y)
    ninf = mx.array(-float("inf"), x.dtype)
    dead = mx.equal(y, ninf)
    lp, ln = _signed_logs(t)
    sp = _scan_node(MLXC_LOGCUMSUMEXP, ax, rev, inc, x + lp)
    sn = _scan_node(MLXC_LOGCUMSUMEXP, ax, rev, inc, x + ln)
    return cast_like(mx.where(dead, zero, mx.exp(sp - y) - mx.exp(sn - y)), y)
