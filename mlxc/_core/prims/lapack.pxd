# LAPACK-backed primitives (kernels/lapack/batched.c over the scipy-openblas32 LAPACK).
from mlxc._core.primitive cimport Primitive

cdef class Lapack(Primitive):   # one class for every routine, parameterized by op code
    cdef readonly int op, flag

cdef Lapack lapack_prim(int op, int flag)
