"""LAPACK-backed primitives: one Lapack class parameterized by op code (a routine of
kernels/lapack/batched.c) and a flag (upper / which SVD / eigenvectors).

Inputs reach the primitive with equal batch shapes (the op constructors in
ops/lapack.pyx broadcast them as views); matrices are read through their strides, so
no input is copied here.  Outputs are row-major.  Failures LAPACK reports (a singular
matrix, one that is not positive definite, no convergence) raise with the matrix's
index; non-finite input gives NaN outputs instead (see mlxc_lapack.h).

The transform rules live in prims/lapack_rules.py, written with mlxc ops.
"""
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport alloc_output, array
from mlxc._core.dtype cimport itemsize
from mlxc._core.primitive cimport Primitive, check_status

cdef extern from "mlxc_lapack.h" nogil:
    enum:
        MLXC_LP_CHOLESKY, MLXC_LP_SOLVE, MLXC_LP_SOLVE_TRI, MLXC_LP_TRI_INV, MLXC_LP_LU
        MLXC_LP_QR, MLXC_LP_SVD, MLXC_LP_EIGH, MLXC_LP_EIG, MLXC_LP_SLOGDET, MLXC_LP_INV
        MLXC_ERR_LAPACK
    struct mlxc_lapack_args:
        int op, dtype, flag
        int64_t batch, m, n, k
        const char *a
        const int64_t *a_off
        int64_t a_rs, a_cs
        const char *b
        const int64_t *b_off
        int64_t b_rs, b_cs
        char *out[3]
        int64_t fail_index
        int fail_info
    int mlxc_lapack(mlxc_lapack_args *args)

# Op codes as Python ints for the op constructors and the rules.
CHOLESKY, SOLVE, SOLVE_TRI, TRI_INV, LU = (MLXC_LP_CHOLESKY, MLXC_LP_SOLVE, MLXC_LP_SOLVE_TRI,
                                           MLXC_LP_TRI_INV, MLXC_LP_LU)
QR, SVD, EIGH, EIG, SLOGDET = MLXC_LP_QR, MLXC_LP_SVD, MLXC_LP_EIGH, MLXC_LP_EIG, MLXC_LP_SLOGDET
INV = MLXC_LP_INV

_NAMES = {MLXC_LP_CHOLESKY: "Cholesky", MLXC_LP_SOLVE: "Solve", MLXC_LP_SOLVE_TRI: "SolveTriangular",
          MLXC_LP_TRI_INV: "TriInverse", MLXC_LP_LU: "LUF", MLXC_LP_QR: "QRF",
          MLXC_LP_SVD: "SVD", MLXC_LP_EIGH: "Eigh", MLXC_LP_EIG: "Eig",
          MLXC_LP_SLOGDET: "SlogDet", MLXC_LP_INV: "Inverse"}
# the public function named in error messages
_PUBLIC = {MLXC_LP_CHOLESKY: "cholesky", MLXC_LP_SOLVE: "solve",
           MLXC_LP_SOLVE_TRI: "solve_triangular", MLXC_LP_TRI_INV: "tri_inv",
           MLXC_LP_LU: "lu_factor", MLXC_LP_QR: "qr", MLXC_LP_SVD: "svd",
           MLXC_LP_EIGH: "eigh", MLXC_LP_EIG: "eig", MLXC_LP_SLOGDET: "slogdet",
           MLXC_LP_INV: "inv"}


cdef int64_t *batch_offsets(array x, int nb, int64_t count) except NULL:
    """Element offset of every matrix of x (batch dims x.dims[:nb], row-major order)."""
    cdef int64_t *off = <int64_t *>malloc(max(count, 1) * sizeof(int64_t))
    cdef int64_t t, rem, o
    cdef int i
    if off == NULL:
        raise MemoryError()
    for t in range(count):
        rem = t
        o = 0
        for i in range(nb - 1, -1, -1):
            o += (rem % x.dims[i]) * x.strides[i]
            rem //= x.dims[i]
        off[t] = o
    return off


cdef str _failure(int op, int64_t index, int info, int64_t count):
    where = f" (matrix {index} of the batch)" if count > 1 else ""
    name = _PUBLIC[op]
    if op == MLXC_LP_CHOLESKY:
        return (f"[linalg::cholesky] Matrix is not positive definite{where}: its leading "
                f"minor of order {info} is not positive.")
    if op in (MLXC_LP_SOLVE, MLXC_LP_SOLVE_TRI, MLXC_LP_TRI_INV, MLXC_LP_INV):
        return (f"[linalg::{name}] Matrix is singular{where}: pivot {info} is exactly "
                f"zero.")
    return f"[linalg::{name}] The algorithm did not converge{where} (LAPACK info {info})."


cdef class Lapack(Primitive):
    """A batched LAPACK routine (op code, flag); see kernels/lapack/mlxc_lapack.h."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0], b = None, o
        cdef int nb = a.ndim - 2, i, st
        cdef mlxc_lapack_args g
        cdef int64_t count = 1
        for i in range(nb):
            count *= a.dims[i]
        for i in range(3):
            g.out[i] = NULL
        for i in range(len(outputs)):
            o = <array>outputs[i]
            alloc_output(o)
            g.out[i] = o.data()
        if count == 0:
            return 0
        g.op = self.op
        g.dtype = a.dtype
        g.flag = self.flag
        g.batch = count
        g.m = a.dims[nb]
        g.n = a.dims[nb + 1]
        g.k = 0
        g.a = a.data()
        g.a_rs = a.strides[nb]
        g.a_cs = a.strides[nb + 1]
        g.a_off = batch_offsets(a, nb, count)
        g.b = NULL
        g.b_off = NULL
        g.b_rs = g.b_cs = 0
        if len(inputs) > 1:
            b = <array>inputs[1]
            g.k = b.dims[nb + 1]
            g.b = b.data()
            g.b_rs = b.strides[nb]
            g.b_cs = b.strides[nb + 1]
            try:
                g.b_off = batch_offsets(b, nb, count)
            except MemoryError:
                free(<void *>g.a_off)
                raise
        with nogil:
            st = mlxc_lapack(&g)
        free(<void *>g.a_off)
        free(<void *>g.b_off)
        if st == MLXC_ERR_LAPACK:
            raise RuntimeError(_failure(self.op, g.fail_index, g.fail_info, count))
        return check_status(st, "linalg::" + _PUBLIC[self.op])

    cpdef list output_shapes(self, list inputs):
        from mlxc._core.prims.lapack_rules import output_shapes
        return output_shapes(self.op, self.flag, inputs)

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Lapack and (<Lapack>other).op == self.op
                and (<Lapack>other).flag == self.flag)

    cpdef str name(self):
        return _NAMES[self.op]

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.lapack_rules import vjp
        return vjp(self.op, self.flag, primals, cotangents, argnums, outputs)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.lapack_rules import jvp
        return jvp(self.op, self.flag, primals, tangents, argnums, outputs)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        from mlxc._core.prims.lapack_rules import vmap
        return vmap(self.op, self.flag, inputs, axes)


cdef Lapack lapack_prim(int op, int flag):
    cdef Lapack p = Lapack.__new__(Lapack)
    p.op = op
    p.flag = flag
    return p


def _lapack_prim(int op, int flag):
    """lapack_prim for Python callers (the rules)."""
    return lapack_prim(op, flag)
