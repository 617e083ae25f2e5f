# The helpers of gpu_eval.pyx that the other kernel-family modules (gpu_*.pyx) share.
from libc.stdint cimport int64_t
from mlxc._core.array cimport array

cdef str dtype_suffix(int code, str op)
cdef tuple input_binding(array a)
cdef tuple output_binding(array out)
cdef bytes layout_meta(array out, list ops, list offsets, int *ndim)
cdef bytes i32(int v)
cdef bytes u32(int64_t v)
cdef int gpu_copy_into(array a, array out, str op) except -1
