"""Reduction primitives: Reduce, ArgReduce, Scan, Sort and ArgSort.

The kernels work on the LAST dims of a (shape, strides) description, so each eval
permutes the input's dims and strides (no copy) to put the worked-on axes last.
Scan and Sort write rows in that permuted order; their output keeps the buffer and
gets the permuted strides (a valid strided array) instead of being copied back.
"""
from libc.math cimport INFINITY, exp, expf, log1p, log1pf
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from mlxc._core.array cimport (ROW_CONTIG, alloc_output, array, new_empty, update_flags)
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

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is ArgReduce and (<ArgReduce>other).op == self.op
                and (<ArgReduce>other).axis == self.axis)

    cpdef str name(self):
        return "ArgMax" if self.op == MLXC_ARGMAX else "ArgMin"


# ---------------------------------------------------------------- logcumsumexp rows
# The kernel ABI has no log-add-exp scan; these run over rows already laid out
# contiguously (copied into the output), in place, in float32 / float64.

cdef inline double lae(double a, double x) noexcept nogil:
    if a != a or x != x:
        return a + x
    if a == x:                          # also covers +-inf on both sides
        return a + 0.6931471805599453
    if a > x:
        return a + log1p(exp(x - a))
    return x + log1p(exp(a - x))


cdef inline float laef(float a, float x) noexcept nogil:
    if a != a or x != x:
        return a + x
    if a == x:
        return a + <float>0.6931471805599453
    if a > x:
        return a + log1pf(expf(x - a))
    return x + log1pf(expf(a - x))


cdef void lcse_rows(int dt, char *data, int64_t nrows, int64_t n, bint reverse,
                    bint inclusive) noexcept nogil:
    cdef int64_t r, k, i, d = -1 if reverse else 1, i0 = n - 1 if reverse else 0
    cdef double acc, v
    cdef float accf, vf
    cdef double *pd
    cdef float *pf
    for r in range(nrows):
        if dt == MLXC_FLOAT64:
            pd = <double *>data + r * n
            acc = -INFINITY
            i = i0
            for k in range(n):
                v = pd[i]
                if inclusive:
                    acc = lae(acc, v)
                    pd[i] = acc
                else:
                    pd[i] = acc
                    acc = lae(acc, v)
                i += d
        else:
            pf = <float *>data + r * n
            accf = -INFINITY
            i = i0
            for k in range(n):
                vf = pf[i]
                if inclusive:
                    accf = laef(accf, vf)
                    pf[i] = accf
                else:
                    pf[i] = accf
                    accf = laef(accf, vf)
                i += d


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
        cdef int64_t n = P.shape[P.ndim - 1] if P.ndim > 0 else 1
        alloc_output(out)
        if out.size == 0:
            return 0
        if op == SCAN_LOGADDEXP:
            if dt != MLXC_FLOAT32 and dt != MLXC_FLOAT64:
                return check_status(MLXC_ERR_UNSUPPORTED, self.name())
            with nogil:
                st = mlxc_copy(dt, dt, out.data(), P.cstrides, a.data(), P.strides, P.ndim,
                               P.shape)
                if st == MLXC_OK:
                    lcse_rows(dt, out.data(), out.size // n, n, rev, inc)
        else:
            with nogil:
                st = mlxc_scan(op, dt, out.data(), a.data(), P.ndim, P.shape, P.strides,
                               rev, inc)
        check_status(st, self.name())
        set_permuted_strides(out, P, order)
        return 0

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
        alloc_output(out)
        if out.size == 0:
            return 0
        nrows = out.size // n
        with nogil:
            # Rows of the input, axis last, into the output buffer; then sort in place.
            st = mlxc_copy(dt, dt, out.data(), P.cstrides, a.data(), P.strides, P.ndim,
                           P.shape)
            if st == MLXC_OK:
                if dt == MLXC_COMPLEX64:
                    st = complex_sort_rows(out.data(), nrows, n)
                else:
                    st = mlxc_sort(dt, out.data(), nrows, n)
        check_status(st, "Sort")
        set_permuted_strides(out, P, order)
        return 0

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

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is ArgSort and (<ArgSort>other).axis == self.axis

    cpdef str name(self):
        return "ArgSort"
