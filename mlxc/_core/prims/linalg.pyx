"""Linear algebra primitives: Matmul and AddMM run the batched strided GEMM kernel
(AddMM with its alpha * A@B + beta * C epilogue fused into the GEMM's write-back).

Transform rules.  The op constructor (ops/linalg.pyx) reshapes 1-d operands to matrices
and broadcasts the batch dims (as views) before it builds the node, so the primitive
sees a (*batch, M, K) and b (*batch, K, N) with equal batch shapes (and AddMM's c
broadcast to (*batch, M, N)); the broadcasting views carry their own rules.  The rules
still unbroadcast, so they hold for inputs whose batch dims broadcast.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport alloc_output, array
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_addmm
from mlxc._core.layout cimport broadcast_strides, collapse
from mlxc._core.primitive cimport Primitive, check_status


cdef int batched_gemm(int dt, int nd, const int64_t *shape, int64_t **bst,
                      int64_t M, int64_t N, int64_t K,
                      const char *A, int64_t a_rs, int64_t a_cs,
                      const char *B, int64_t b_rs, int64_t b_cs,
                      char *out, double alpha, double beta,
                      const char *C, int64_t c_rs, int64_t c_cs, int64_t *idx) noexcept nogil:
    """One kernel call per index of the outer batch dims shape[:nd-1]; the innermost
    batch dim (shape[nd-1], strides bst[k][nd-1]) is the kernel's own batch loop.
    bst[0..3]: the batch strides of A, B, out and C (C NULL: a plain product)."""
    cdef int64_t z = itemsize(dt), inner = 1, a_bs = 0, b_bs = 0, c_bs = 0
    cdef int64_t oa = 0, ob = 0, oc = 0, od = 0
    cdef int i, st
    if nd > 0:
        inner = shape[nd - 1]
        a_bs = bst[0][nd - 1]
        b_bs = bst[1][nd - 1]
        c_bs = bst[3][nd - 1]
    if (nd <= 1 and b_bs == 0 and inner > 1 and a_bs == M * a_rs
            and (C == NULL or c_bs == M * c_rs)):
        # B is shared by every batch and A's batches (and C's) stack as rows: one GEMM of
        # inner*M rows.
        return mlxc_addmm(dt, 1, inner * M, N, K, A, 0, a_rs, a_cs, B, 0, b_rs, b_cs,
                          out, alpha, beta, C, 0, c_rs, c_cs)
    for i in range(nd):
        idx[i] = 0
    while True:
        st = mlxc_addmm(dt, inner, M, N, K, A + oa * z, a_bs, a_rs, a_cs,
                        B + ob * z, b_bs, b_rs, b_cs, out + oc * z, alpha, beta,
                        C + od * z if C != NULL else NULL, c_bs, c_rs, c_cs)
        if st != 0:
            return st
        # Advance the outer multi-index (odometer), updating the element offsets.
        i = nd - 2
        while i >= 0:
            idx[i] += 1
            oa += bst[0][i]
            ob += bst[1][i]
            oc += bst[2][i]
            od += bst[3][i]
            if idx[i] < shape[i]:
                break
            oa -= bst[0][i] * shape[i]
            ob -= bst[1][i] * shape[i]
            oc -= bst[2][i] * shape[i]
            od -= bst[3][i] * shape[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return 0


cdef int run_gemm(array a, array b, array c, array out, double alpha, double beta,
                  str name) except -1:
    """out = alpha * a @ b + beta * c (c None or beta 0: not read) over the batch dims."""
    cdef int nb = out.ndim - 2, i, nd, st
    cdef int64_t M = out.dims[nb], N = out.dims[nb + 1], K = a.dims[nb + 1]
    cdef int64_t c_rs = 0, c_cs = 0
    cdef const char *cdata = NULL
    cdef int64_t *bst[4]
    alloc_output(out)            # never c's buffer: the GEMM accumulates in out first
    if out.size == 0:
        return 0
    # Batch dims: shape, A/B/out/C strides, odometer index; collapsed where all allow.
    cdef int w = max(out.ndim, 1)
    cdef int64_t *mem = <int64_t *>malloc(6 * w * sizeof(int64_t))
    if mem == NULL:
        raise MemoryError()
    cdef int64_t *shape = mem
    for i in range(4):
        bst[i] = mem + (i + 1) * w
    for i in range(out.ndim):
        bst[3][i] = 0
    if c is not None and beta != 0.0:
        broadcast_strides(c, out, bst[3])          # c seen through out's shape
        c_rs = bst[3][nb]
        c_cs = bst[3][nb + 1]
        cdata = c.data()
    for i in range(nb):
        shape[i] = out.dims[i]
        bst[0][i] = a.strides[i]
        bst[1][i] = b.strides[i]
        bst[2][i] = out.strides[i]
    nd = collapse(nb, shape, bst, 4)
    with nogil:
        st = batched_gemm(out.dtype, nd, shape, bst, M, N, K,
                          a.data(), a.strides[nb], a.strides[nb + 1],
                          b.data(), b.strides[nb], b.strides[nb + 1],
                          out.data(), alpha, beta, cdata, c_rs, c_cs, mem + 5 * w)
    free(mem)
    return check_status(st, name)


cdef class Matmul(Primitive):
    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        return run_gemm(<array>inputs[0], <array>inputs[1], None, <array>outputs[0],
                        1.0, 0.0, "Matmul")

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Matmul

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _matmul_vjp(primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_matmul_jvp(primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _matmul_vmap(inputs, axes)


cdef class AddMM(Primitive):
    """alpha * a @ b + beta * c; inputs (a, b, c), c broadcast to the output's shape."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        return run_gemm(<array>inputs[0], <array>inputs[1], <array>inputs[2],
                        <array>outputs[0], self.alpha, self.beta, "AddMM")

    cpdef list output_shapes(self, list inputs):
        a, b = inputs[0], inputs[1]
        return [tuple(a.shape[:-1]) + (b.shape[-1],)]

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is AddMM and (<AddMM>other).alpha == self.alpha
                and (<AddMM>other).beta == self.beta)

    cpdef str name(self):
        return "AddMM"

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _addmm_vjp(self.alpha, self.beta, primals, cotangents[0], argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return [_addmm_jvp(self.alpha, self.beta, primals, tangents, argnums, outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _addmm_vmap(self.alpha, self.beta, inputs, axes)


# Rules as plain functions: mlxc ops imported lazily (mlxc.core imports this module).

def _mT(x):
    """x with its last two axes swapped (a view)."""
    import mlxc.core as mx
    return mx.swapaxes(x, -1, -2)


def _matmul_vjp(list primals, g, list argnums):
    """C = A @ B:  dA = G @ B^T,  dB = A^T @ G, summed over broadcast batch dims."""
    from mlxc._core.prims.rulekit import cast_like, conj_vjp, unbroadcast
    a, b = primals[0], primals[1]
    out = []
    for i in argnums:
        # conj_vjp: complex operands follow MLX's convention, G @ conj(B)^T.
        if i == 0:
            d = conj_vjp(lambda h: unbroadcast(h @ _mT(b), a.shape), g, a, b)
            out.append(cast_like(d, a))
        else:
            d = conj_vjp(lambda h: unbroadcast(_mT(a) @ h, b.shape), g, a, b)
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


def _scaled_matmul(x, y, double alpha):
    """alpha * (x @ y), the scaling fused into the GEMM (an AddMM whose c is never read)."""
    import mlxc.core as mx
    if alpha == 1.0:
        return x @ y
    return mx.addmm(mx.zeros((), x.dtype), x, y, alpha, 0.0)


def _addmm_vjp(double alpha, double beta, list primals, g, list argnums):
    """out = alpha A @ B + beta C:  dA = alpha G @ B^T,  dB = alpha A^T @ G,  dC = beta G,
    each summed over the dims its input was broadcast along."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like, conj_factor, unbroadcast
    a, b, c = primals[0], primals[1], primals[2]
    if g.dtype == mx.complex64:
        a, b = conj_factor(a), conj_factor(b)
    out = []
    for i in argnums:
        if i == 0:
            out.append(cast_like(unbroadcast(_scaled_matmul(g, _mT(b), alpha), a.shape), a))
        elif i == 1:
            out.append(cast_like(unbroadcast(_scaled_matmul(_mT(a), g, alpha), b.shape), b))
        else:
            out.append(cast_like(unbroadcast(g if beta == 1.0 else g * beta, c.shape), c))
    return out


def _addmm_jvp(double alpha, double beta, list primals, list tangents, list argnums, out):
    """d out = alpha (dA @ B + A @ dB) + beta dC, chained through AddMM itself: the first
    product's epilogue adds beta dC, the second's adds the first."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import cast_like
    a, b = primals[0], primals[1]
    acc, acc_beta, terms = None, 0.0, []
    for k in range(len(argnums)):
        t = tangents[k]
        if argnums[k] == 0:
            terms.append((t, b))
        elif argnums[k] == 1:
            terms.append((a, t))
        else:
            acc, acc_beta = t, beta
    if not terms:
        if acc is None:
            return mx.zeros(out.shape, out.dtype)
        return cast_like(mx.broadcast_to(acc if beta == 1.0 else acc * beta, out.shape), out)
    if acc is None:
        acc = mx.zeros((), out.dtype)              # beta 0: never read
    for x, y in terms:
        acc = mx.addmm(acc, x, y, alpha, acc_beta)
        acc_beta = 1.0
    return cast_like(acc, out)


def _addmm_vmap(double alpha, double beta, list inputs, list axes):
    """Batch axes go to the front; unbatched operands broadcast against the batch from
    the right (matmul's batch broadcasting, c's broadcasting to the output).  When only c
    is batched, A gains the batch as a stride-0 view so the product carries it."""
    import mlxc.core as mx
    from mlxc._core.prims.rulekit import batch_size, materialize_batch, move_batch_to_front
    a, b, c = inputs[0], inputs[1], inputs[2]
    ax, bx, cx = axes[0], axes[1], axes[2]
    if ax < 0 and bx < 0 and cx < 0:
        return [mx.addmm(c, a, b, alpha, beta)], [-1]
    if ax < 0 and bx < 0:
        a = materialize_batch(a, -1, batch_size(inputs, axes))
    else:
        a = move_batch_to_front(a, ax)
        b = move_batch_to_front(b, bx)
    c = move_batch_to_front(c, cx)
    return [mx.addmm(c, a, b, alpha, beta)], [0]


cdef Matmul _MATMUL = Matmul.__new__(Matmul)

cdef Matmul matmul_prim():
    return _MATMUL


cdef AddMM addmm_prim(double alpha, double beta):
    cdef AddMM p = AddMM.__new__(AddMM)
    p.alpha = alpha
    p.beta = beta
    return p
