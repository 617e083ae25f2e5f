"""The matmul variants that run one GEMM per piece: GatherMM and SegmentedMM.

GatherMM: out[p] = a[lhs[p]] @ b[rhs[p]], one GEMM per index pair (MoE layers).
The op constructor (ops/matmul_variants.py) brings the node to a canonical form: a
(Ba, M, K), b (Bb, K, N), lhs and rhs int64 of shape (P,) (broadcast views allowed), out
(P, M, N).  A run of pairs that share rhs and walk a's matrices in order (sorted MoE
indices: lhs = arange) is one GEMM whose rows are the run's stacked matrices of a.

SegmentedMM: inputs a (M, K), b (K, N), segments int64 (S, 2) (views allowed), out
(S, M, N): out[s] = a[:, start:end] @ b[start:end, :], a GEMM over the segment's K range
only (an empty segment is zeros).
"""
from libc.stdint cimport int64_t
from libc.string cimport memset

from mlxc._core.array cimport alloc_output, array, new_node
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_matmul
from mlxc._core.primitive cimport Primitive, check_status


cdef int _gather_mm(int dt, int64_t P, int64_t M, int64_t N, int64_t K,
                    const char *A, int64_t Ba, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                    const char *B, int64_t Bb, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                    const int64_t *L, int64_t ls, const int64_t *R, int64_t rs,
                    char *out) noexcept nogil:
    """The indices are in range (check_gather_indices)."""
    cdef int64_t z = itemsize(dt), p = 0, r, i, j, q, qi, qj
    # Matrices of a stack as rows when each one's rows follow the previous one's.
    cdef bint stack = (M == 1) or (a_bs == M * a_rs)
    cdef int64_t run_rs
    cdef int st
    while p < P:
        i = L[p * ls]
        j = R[p * rs]
        if i < 0:
            i += Ba
        if j < 0:
            j += Bb
        r = 1
        if stack:
            while p + r < P:
                qi = L[(p + r) * ls]
                qj = R[(p + r) * rs]
                if qi < 0:
                    qi += Ba
                if qj < 0:
                    qj += Bb
                if qi != i + r or qj != j:
                    break
                r += 1
        run_rs = a_bs if M == 1 else a_rs
        st = mlxc_matmul(dt, 1, r * M, N, K, A + i * a_bs * z, 0, run_rs, a_cs,
                         B + j * b_bs * z, 0, b_rs, b_cs, out + p * M * N * z)
        if st != 0:
            return st
        p += r
    return 0


cpdef int check_gather_indices(array a, array b, array lhs, array rhs) except -1:
    """Every lhs index names one of a's matrices and every rhs index one of b's (negative
    ones count from the end), checked in pair order before any product runs (CPU and GPU:
    the GPU's host reads the index buffers in unified memory); IndexError for the first
    bad one."""
    cdef int64_t p, v
    cdef const int64_t *L = <const int64_t *>lhs.data()
    cdef const int64_t *R = <const int64_t *>rhs.data()
    for p in range(lhs.dims[0]):
        v = L[p * lhs.strides[0]]
        if not -a.dims[0] <= v < a.dims[0]:
            raise IndexError(f"[gather_mm] Index {v} in lhs_indices is out of bounds for "
                             f"{a.dims[0]} matrices.")
        v = R[p * rhs.strides[0]]
        if not -b.dims[0] <= v < b.dims[0]:
            raise IndexError(f"[gather_mm] Index {v} in rhs_indices is out of bounds for "
                             f"{b.dims[0]} matrices.")
    return 0


cdef class GatherMM(Primitive):
    """Inputs (a, b, lhs, rhs) in the canonical form above."""
    cdef readonly bint sorted_indices

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = inputs[0], b = inputs[1], l = inputs[2], r = inputs[3]
        cdef array out = outputs[0]
        cdef int st
        alloc_output(out)
        if out.size == 0:
            return 0
        check_gather_indices(a, b, l, r)
        cdef int64_t P = out.dims[0], M = out.dims[1], N = out.dims[2], K = a.dims[2]
        with nogil:
            st = _gather_mm(out.dtype, P, M, N, K,
                            a.data(), a.dims[0], a.strides[0], a.strides[1], a.strides[2],
                            b.data(), b.dims[0], b.strides[0], b.strides[1], b.strides[2],
                            <const int64_t *>l.data(), l.strides[0],
                            <const int64_t *>r.data(), r.strides[0], out.data())
        return check_status(st, "gather_mm")

    cpdef list output_shapes(self, list inputs):
        a, b, l = inputs[0], inputs[1], inputs[2]
        return [(l.shape[0], a.shape[1], b.shape[2])]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is GatherMM

    cpdef str name(self):
        return "GatherMM"

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.matmul_variants_rules import gather_mm_vjp
        return gather_mm_vjp(primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.matmul_variants_rules import gather_mm_jvp
        return [gather_mm_jvp(primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.prims.matmul_variants_rules import gather_mm_vmap
        return gather_mm_vmap(inputs, axes, self.sorted_indices)


cpdef array gather_mm_node(array a, array b, array lhs, array rhs, bint sorted_indices):
    """The GatherMM node of canonical inputs (see the module's docstring)."""
    cdef GatherMM p = GatherMM.__new__(GatherMM)
    p.sorted_indices = sorted_indices
    return new_node(a.dtype, (lhs._shape[0], a._shape[1], b._shape[2]), p, (a, b, lhs, rhs))


cdef int _segmented_mm(int dt, int64_t S, int64_t M, int64_t N, int64_t K,
                       const char *A, int64_t a_rs, int64_t a_cs,
                       const char *B, int64_t b_rs, int64_t b_cs,
                       const int64_t *seg, int64_t s_s, int64_t s_e,
                       char *out) noexcept nogil:
    """The segment bounds are in range (check_segments)."""
    cdef int64_t z = itemsize(dt), s, k0, k1
    cdef int st
    for s in range(S):
        k0 = seg[s * s_s]
        k1 = seg[s * s_s + s_e]
        if k1 <= k0:
            memset(out + s * M * N * z, 0, M * N * z)
            continue
        st = mlxc_matmul(dt, 1, M, N, k1 - k0, A + k0 * a_cs * z, 0, a_rs, a_cs,
                         B + k0 * b_rs * z, 0, b_rs, b_cs, out + s * M * N * z)
        if st != 0:
            return st
    return 0


cpdef int check_segments(array segments, int64_t K) except -1:
    """Both bounds of every segment within [0, K], checked before any product runs (CPU
    and GPU, as check_gather_indices); IndexError for the first bad one."""
    cdef int64_t s, k0, k1
    cdef const int64_t *sp = <const int64_t *>segments.data()
    for s in range(segments.dims[0]):
        k0 = sp[s * segments.strides[0]]
        k1 = sp[s * segments.strides[0] + segments.strides[1]]
        if k0 < 0 or k0 > K or k1 < 0 or k1 > K:
            raise IndexError(f"[segmented_mm] Segment bound {k0 if (k0 < 0 or k0 > K) else k1}"
                             f" is out of range for an inner dimension of size {K}.")
    return 0


cdef class SegmentedMM(Primitive):
    """Inputs (a, b, segments) in the canonical form of the module's docstring."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = inputs[0], b = inputs[1], sg = inputs[2]
        cdef array out = outputs[0]
        cdef int st
        alloc_output(out)
        if out.size == 0:
            return 0
        check_segments(sg, a.dims[1])
        with nogil:
            st = _segmented_mm(out.dtype, out.dims[0], out.dims[1], out.dims[2], a.dims[1],
                               a.data(), a.strides[0], a.strides[1],
                               b.data(), b.strides[0], b.strides[1],
                               <const int64_t *>sg.data(), sg.strides[0], sg.strides[1],
                               out.data())
        return check_status(st, "segmented_mm")

    cpdef list output_shapes(self, list inputs):
        a, b, sg = inputs
        return [(sg.shape[0], a.shape[0], b.shape[1])]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is SegmentedMM

    cpdef str name(self):
        return "SegmentedMM"

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.matmul_variants_rules import segmented_mm_vjp
        return segmented_mm_vjp(primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.matmul_variants_rules import segmented_mm_jvp
        return [segmented_mm_jvp(primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.prims.matmul_variants_rules import segmented_mm_vmap
        return segmented_mm_vmap(inputs, axes)


cpdef array segmented_mm_node(array a, array b, array segments):
    """The SegmentedMM node of canonical inputs (see the module's docstring)."""
    return new_node(a.dtype, (segments._shape[0], a._shape[0], b._shape[1]),
                    SegmentedMM.__new__(SegmentedMM), (a, b, segments))
