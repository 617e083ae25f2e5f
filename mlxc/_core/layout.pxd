# Stride arithmetic shared by the primitive families (inline, header-only).
from libc.stdint cimport int64_t
from mlxc._core.array cimport array

cdef enum:
    MAX_OPERANDS = 4

cdef inline void broadcast_strides(array inp, array out, int64_t *dst) noexcept:
    """inp's element strides seen through out's shape (numpy broadcasting, 0 where repeated)."""
    cdef int k = out.ndim - inp.ndim
    cdef int i
    for i in range(out.ndim):
        if i < k or inp.dims[i - k] != out.dims[i]:
            dst[i] = 0
        else:
            dst[i] = inp.strides[i - k]


cdef inline int collapse(int ndim, int64_t *shape, int64_t **strides, int nops) noexcept:
    """Merge adjacent dims that are contiguous for every operand, in place; drop size-1 dims.
    Returns the new ndim (shape/strides arrays are rewritten)."""
    cdef int i, j, k, n = 0
    cdef bint ok
    for i in range(ndim):
        if shape[i] == 1:
            continue
        if n > 0:
            ok = True
            for k in range(nops):
                if strides[k][n - 1] != strides[k][i] * shape[i]:
                    ok = False
                    break
            if ok:
                shape[n - 1] *= shape[i]
                for k in range(nops):
                    strides[k][n - 1] = strides[k][i]
                continue
        shape[n] = shape[i]
        for k in range(nops):
            strides[k][n] = strides[k][i]
        n += 1
    return n
