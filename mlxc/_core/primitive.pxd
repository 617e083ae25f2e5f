# The primitive dispatch table: every graph node's operation is a Primitive.

cdef class Primitive:
    cdef int eval_cpu(self, list inputs, list outputs) except -1    # run kernels, fill outputs
    cdef int eval_gpu(self, list inputs, list outputs) except -1    # GPU backend slot
    # Transform rules.  They build their results from mlxc ops, so they are differentiable.
    # vjp: one cotangent per argnum, shaped and typed like that primal.
    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs)
    # jvp: tangents[k] is the tangent of primals[argnums[k]]; returns one tangent per output.
    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs)
    # vmap: axes[i] is the batch axis of inputs[i] or -1 (unbatched); outputs are the node's
    # unbatched outputs (for their shapes); returns (batched outputs, their batch axes).
    cpdef tuple vmap(self, list inputs, list axes, list outputs)
    cpdef list output_shapes(self, list inputs)
    cpdef bint is_equivalent(self, Primitive other)
    cpdef str name(self)

cdef int check_status(int status, str op) except -1    # kernel status -> Python exception
