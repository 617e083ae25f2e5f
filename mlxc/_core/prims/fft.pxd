# FFT primitive (kernels/fft.c).
from mlxc._core.primitive cimport Primitive

cdef class FFT(Primitive):     # one 1-D transform along one axis; input already cropped/padded
    cdef readonly int axis     # the transformed axis (non-negative)
    cdef readonly int kind     # enum mlxc_fft_kind: C2C, C2C_INV, R2C, C2R
    cdef readonly long long n  # the transform length (R2C input / C2R output length)
    cdef readonly double scale # every output value times scale (the norm)
