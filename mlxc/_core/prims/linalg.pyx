"""Linear algebra primitives: Matmul runs the batched strided GEMM kernel.

Transform rules.  The op constructor (ops/linalg.pyx) reshapes 1-d operands to matrices
and broadcasts the batch dims (as views) before it builds the node, so the primitive
sees a (*batch, M, K) and b (*batch, K, N) with equal batch shapes; the broadcasting
views carry their own rules.  The rules still unbroadcast, so they hold for inputs
whose batch dims broadcast.
"""
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

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _matmul_vjp(primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_matmul_jvp(primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _matmul_vmap(inputs, axes)


# Rules as plain functions: mlxc ops imported lazily (mlxc.core imports this module).

def _mT(x):
    """x with its last two axes swapped (a view)."""
    import mlxc.core as mx
    return mx.swapaxes(x, -1, -2)


def _matmul_vjp(list primals, g, list argnums):
    """C = A @ B:  dA = G @ B^T,  dB = A^T @ G, summed over broadcast batch dims."""
    from mlxc._core.prims.rulekit import cast_like, unbroadcast
    a, b = primals[0], primals[1]
    out = []
    for i in argnums:
        if i == 0:
            d = unbroadcast(g @ _mT(b), a.shape)
            out.append(cast_like(d, a))
        else:
            d = unbroadcast(_mT(a) @ g, b.shape)
            out.append(cast_like(d, b))
    return out


def _matmul_jvp(list primals, list tangents, list argnums, out):
    """dC = dA @ B + A @ dB (a term for each input that has a tangent)."""
    from mlxc._core.prims.rulekit import cast_like
    a, b = primals[0], primals[1]
    res = None
    for k in range(len(argnums)):
        t = tangents[k]
        term = t @ b if argnums[k] == 0 else a @ t
        res = term if res is None else res + term
    if res is None:
        import mlxc.core as mx
        return mx.zeros(out.shape, out.dtype)
    return cast_like(res, out)


def _matmul_vmap(list inputs, list axes):
    """Batch axes go to the front; an unbatched operand broadcasts against the batch
    through matmul's own batch broadcasting (its dims line up from the right).  Two
    common cases skip the batched GEMM: a batched operand times a shared matrix."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import move_batch_to_front
    a, b = inputs[0], inputs[1]
    ax, bx = axes[0], axes[1]
    if ax < 0 and bx < 0:
        return [a @ b], [-1]
    if bx < 0 and b.ndim == 2 and ax < a.ndim - 1:
        # A batched (3-d), B a shared matrix: A's batch axis is not its K axis, so it is
        # one more row/batch dim of A @ B and stays where it is.
        return [a @ b], [ax]
    if ax < 0 and a.ndim == 2 and b.ndim == 3:
        # A a shared matrix, B batched: A @ [B_0 ... B_{n-1}] as one (M, K) @ (K, n*N)
        # GEMM; the columns of the result keep the batch as an axis of its own.
        if bx == 0:
            b = mx.moveaxis(b, 0, 1)           # (K, n, N)
        K, s1, s2 = b.shape
        wide = a @ mx.reshape(b, (K, s1 * s2))
        return [mx.reshape(wide, (a.shape[0], s1, s2))], [2 if bx == 2 else 1]
    a = move_batch_to_front(a, ax)
    b = move_batch_to_front(b, bx)
    return [a @ b], [0]


cdef Matmul _MATMUL = Matmul.__new__(Matmul)

cdef Matmul matmul_prim():
    return _MATMUL
