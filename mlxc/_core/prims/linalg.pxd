# Linear algebra primitives.
from mlxc._core.primitive cimport Primitive

cdef class Matmul(Primitive):   # inputs (*batch, M, K) and (*batch, K, N), same batch shape
    pass

cdef Matmul matmul_prim()       # the shared instance

cdef class AddMM(Primitive):    # inputs a, b as Matmul's and c broadcast to (*batch, M, N)
    cdef readonly double alpha, beta

cdef AddMM addmm_prim(double alpha, double beta)
