# Helpers of gpu_eval.pyx shared with the other kernel-family modules (gpu_<family>.pyx).
from libc.stdint cimport int64_t
from mlxc._core.array cimport array

cdef str dtype_suffix(int code, str op, bint complex_ok=*)  # kernel-name suffix; raises for
                                                 # float64, and complex64 unless complex_ok
cdef tuple input_binding(array a)                # ((address, nbytes), element offset)
cdef tuple output_binding(array out)             # (address, nbytes) of out's elements
cdef bytes layout_meta(array out, list ops, list offsets, int *ndim)
cdef bytes i32(int v)
cdef bytes u32(int64_t v)                        # raises past one dispatch's grid
cdef str move_suffix(int code, str op)           # dtype_suffix; complex64 moves as uint64
cdef int dispatch_elementwise(str kernels, str name, list ins, array out, tuple consts,
                              bint out_operand=*) except -1
cdef str copy_kernel(int src, int dst, str op, int *out_code)   # copy_g_<dtype>, out code
cdef int gpu_copy_into(array a, array out, str op) except -1
