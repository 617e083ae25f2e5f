# The primitive dispatch table: every graph node's operation is a Primitive.

cdef class Primitive:
    cdef int eval_cpu(self, list inputs, list outputs) except -1    # run kernels, fill outputs
    cdef int eval_gpu(self, list inputs, list outputs) except -1    # GPU backend slot
    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs)
    cpdef list jvp(self, list primals, list tangents, list argnums)
    cpdef tuple vmap(self, list inputs, list axes)
    cpdef list output_shapes(self, list inputs)
    cpdef bint is_equivalent(self, Primitive other)
    cpdef str name(self)

cdef int check_status(int status, str op) except -1    # kernel status -> Python exception
