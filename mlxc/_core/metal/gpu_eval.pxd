# Helpers of gpu_eval.pyx shared by the other kernel-family modules (gpu_<family>.pyx).
from libc.stdint cimport int64_t

from mlxc._core.array cimport array

cdef str dtype_suffix(int code, str op)             # kernel-name suffix; TypeError if none
cdef tuple input_binding(array a)                   # ((address, nbytes), element offset)
cdef tuple output_binding(array out)                # (address, nbytes)
cdef bytes i32(int v)
cdef bytes u32(int64_t v)                           # ValueError beyond one dispatch's grid
cdef int gpu_copy_into(array a, array out, str op) except -1   # out (allocated) = a, cast
