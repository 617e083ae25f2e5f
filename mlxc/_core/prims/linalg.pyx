"""Linear algebra primitives: Matmul runs the batched strided GEMM kernel."""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport alloc_output, array
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_matmul
from mlxc._core.layout cimport collapse
from mlxc._core.primitive cimport Primitive, check_status


cdef int batched_gemm(int dt, int nd, const int64_t *shape, int64_t **bst,
                      int64_t M, int64_t N, int64_t K,
                      const char *A, int64_t a_rs, int64_t a_cs,
                      const char *B, int64_t b_rs, int64_t b_cs,
                      char *C, int64_t *idx) noexcept nogil:
    """One kernel call per index of the outer batch dims shape[:nd-1]; the innermost
    batch dim (shape[nd-1], strides bst[k][nd-1]) is the kernel's own batch loop."""
    cdef int64_t z = itemsize(dt), inner = 1, ia = 0, ib = 0, a_bs = 0, b_bs = 0
    cdef int64_t oa = 0, ob = 0, oc = 0
    cdef int i, st
    if nd > 0:
        inner = shape[nd - 1]
        a_bs = bst[0][nd - 1]
        b_bs = bst[1][nd - 1]
    if nd <= 1 and b_bs == 0 and inner > 1 and a_bs == M * a_rs:
        # B is shared by every batch and A's batches stack as rows: one GEMM of inner*M rows.
        return mlxc_matmul(dt, 1, inner * M, N, K, A, 0, a_rs, a_cs, B, 0, b_rs, b_cs, C)
    for i in range(nd):
        idx[i] = 0
    while True:
        st = mlxc_matmul(dt, inner, M, N, K, A + oa * z, a_bs, a_rs, a_cs,
                         B + ob * z, b_bs, b_rs, b_cs, C + oc * z)
        if st != 0:
            return st
        # Advance the outer multi-index (odometer), updating the element offsets.
        i = nd - 2
        while i >= 0:
            idx[i] += 1
            oa += bst[0][i]
            ob += bst[1][i]
            oc += bst[2][i]
            if idx[i] < shape[i]:
                break
            oa -= bst[0][i] * shape[i]
            ob -= bst[1][i] * shape[i]
            oc -= bst[2][i] * shape[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return 0


cdef class Matmul(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array b = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int nb = out.ndim - 2, i, nd, st
        cdef int64_t M = out.dims[nb], N = out.dims[nb + 1], K = a.dims[nb + 1]
        cdef int64_t *bst[3]
        alloc_output(out)
        if out.size == 0:
            return 0
        # Batch dims: shape, A/B/C strides, odometer index; collapsed where all three allow.
        cdef int w = max(nb, 1)
        cdef int64_t *mem = <int64_t *>malloc(5 * w * sizeof(int64_t))
        if mem == NULL:
            raise MemoryError()
        cdef int64_t *shape = mem
        for i in range(3):
            bst[i] = mem + (i + 1) * w
        for i in range(nb):
            shape[i] = out.dims[i]
            bst[0][i] = a.strides[i]
            bst[1][i] = b.strides[i]
            bst[2][i] = out.strides[i]
        nd = collapse(nb, shape, bst, 3)
        with nogil:
            st = batched_gemm(out.dtype, nd, shape, bst, M, N, K,
                              a.data(), a.strides[nb], a.strides[nb + 1],
                              b.data(), b.strides[nb], b.strides[nb + 1],
                              out.data(), mem + 4 * w)
        free(mem)
        return check_status(st, "Matmul")

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Matmul


cdef Matmul _MATMUL = Matmul.__new__(Matmul)

cdef Matmul matmul_prim():
    return _MATMUL
