"""Join primitives: Concatenate copies each input into its region of a fresh output."""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport alloc_output, array
from mlxc._core.dtype cimport itemsize
from mlxc._core.kernels cimport mlxc_copy
from mlxc._core.layout cimport collapse
from mlxc._core.primitive cimport Primitive, check_status

# Copies below this many elements run without releasing the GIL (releasing costs more).
cdef enum:
    NOGIL_SIZE = 16384


cdef class Concatenate(Primitive):
    def __init__(self, int axis):
        self.axis = axis

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array out = <array>outputs[0]
        cdef array x
        cdef int i, nd, st = 0, ax = self.axis
        cdef int64_t pos = 0
        cdef char *dst
        cdef int64_t *strides[2]
        cdef int64_t *mem = <int64_t *>malloc(3 * max(out.ndim, 1) * sizeof(int64_t))
        if mem == NULL:
            raise MemoryError()
        cdef int64_t *shape = mem
        strides[0] = mem + max(out.ndim, 1)
        strides[1] = mem + 2 * max(out.ndim, 1)
        try:
            alloc_output(out)
            for o in inputs:
                x = <array>o
                if x.size == 0:
                    pos += x.dims[ax]
                    continue
                # The input's region starts pos elements into the output along axis;
                # the copy sees out's strides over x's shape there.
                dst = out.data() + pos * out.strides[ax] * itemsize(out.dtype)
                for i in range(x.ndim):
                    shape[i] = x.dims[i]
                    strides[0][i] = x.strides[i]
                    strides[1][i] = out.strides[i]
                nd = collapse(x.ndim, shape, strides, 2)
                if x.size < NOGIL_SIZE:
                    st = mlxc_copy(x.dtype, out.dtype, dst, strides[1], x.data(), strides[0],
                                   nd, shape)
                else:
                    with nogil:
                        st = mlxc_copy(x.dtype, out.dtype, dst, strides[1], x.data(),
                                       strides[0], nd, shape)
                check_status(st, "Concatenate")
                pos += x.dims[ax]
        finally:
            free(mem)
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is Concatenate and (<Concatenate>other).axis == self.axis
