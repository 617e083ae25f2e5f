# Elementwise primitive families, one class each, parameterized by op code.
from mlxc._core.primitive cimport Primitive

cdef class Unary(Primitive):
    cdef readonly int op          # enum mlxc_unary_op

cdef class Binary(Primitive):
    cdef readonly int op          # enum mlxc_binary_op

cdef class Select(Primitive):     # where(cond, a, b)
    pass

cdef class Copy(Primitive):       # cast and/or materialize a broadcast view into a new buffer
    pass

cdef class FP8(Primitive):        # float8 e4m3 <-> floating (MLX's to_fp8 / from_fp8)
    cdef readonly bint to         # True: floating -> uint8 codes; False: codes -> floating

cdef class Arange(Primitive):
    cdef readonly double start    # first value
    cdef readonly double step     # increment

cdef Unary unary_prim(int op)     # the shared instance for an op code
cdef Binary binary_prim(int op)
cdef Select select_prim()
cdef Copy copy_prim()
