# Linear algebra primitives.
from mlxc._core.primitive cimport Primitive

cdef class Matmul(Primitive):   # inputs (*batch, M, K) and (*batch, K, N), same batch shape
    pass

cdef Matmul matmul_prim()       # the shared instance
