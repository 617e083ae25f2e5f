# Quantization primitives (kernels/quant.c): MLX's quantize / dequantize / quantized_matmul.
from mlxc._core.primitive cimport Primitive

cdef class Quantize(Primitive):         # inputs (w[, global_scale]); outputs (w_q, scales[, biases])
    cdef readonly int mode, group_size, bits
    cdef readonly bint has_global

cdef class Dequantize(Primitive):       # inputs (w_q, scales[, biases][, global_scale])
    cdef readonly int mode, group_size, bits, out_dtype
    cdef readonly bint has_global

cdef class QuantizedMatmul(Primitive):  # inputs (x float32, w_q, scales[, biases float32])
    cdef readonly int mode, group_size, bits
    cdef readonly bint transpose

# inputs (x (X, M, K) float32, w_q (W, ..), scales (W, ..)[, biases float32], lhs, rhs uint32
# of the batch shape); output (batch..., M, N) float32; QuantizedMatmul's parameters
cdef class GatherQMM(QuantizedMatmul):
    pass
