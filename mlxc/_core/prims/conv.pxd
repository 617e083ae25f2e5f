# Convolution primitive: MLX's conv_general on channels-last arrays (kernels/conv.c).
from mlxc._core.primitive cimport Primitive

cdef class Convolution(Primitive):
    cdef readonly tuple stride, pad_lo, pad_hi, kdil, idil   # one entry per spatial dim
    cdef readonly long long groups
    cdef readonly bint flip

cdef Convolution conv_prim(tuple stride, tuple pad_lo, tuple pad_hi, tuple kdil, tuple idil,
                           long long groups, bint flip)
