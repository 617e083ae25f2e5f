"""The Primitive base class: the interface every layer dispatches through."""
from mlxc._core.kernels cimport MLXC_OK, MLXC_ERR_UNSUPPORTED, MLXC_ERR_INDEX, MLXC_ERR_NOMEM


# eval_gpu of each primitive type that has one: type -> f(prim, inputs, outputs).  Filled
# by mlxc._core.metal.gpu_eval when a GPU backend starts; empty without one.
_gpu_table = {}


cdef class Primitive:
    """One operation of the graph.  Families subclass it and are parameterized by op code."""

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        raise NotImplementedError(f"[{self.name()}] has no CPU implementation.")

    cdef int eval_gpu(self, list inputs, list outputs) except -1:
        f = _gpu_table.get(type(self))
        if f is None:
            if not _gpu_table:
                raise RuntimeError(f"[{self.name()}] The GPU backend is not available in "
                                   f"this build.")
            # Never a silent CPU fallback: the node was asked to run on the GPU.
            raise RuntimeError(f"[{self.name()}] has no Metal kernel yet: run it on the CPU "
                               f"(stream=mx.cpu).")
        f(self, inputs, outputs)
        return 0

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        raise NotImplementedError(f"[{self.name()}] vjp is not implemented.")

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        raise NotImplementedError(f"[{self.name()}] jvp is not implemented.")

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        raise NotImplementedError(f"[{self.name()}] vmap is not implemented.")

    cpdef list output_shapes(self, list inputs):
        raise NotImplementedError(f"[{self.name()}] cannot infer output shapes.")

    cpdef bint is_equivalent(self, Primitive other):
        return False

    cpdef str name(self):
        return type(self).__name__

    def __repr__(self):
        return self.name()


cdef int check_status(int status, str op) except -1:
    if status == MLXC_OK:
        return 0
    if status == MLXC_ERR_UNSUPPORTED:
        raise TypeError(f"[{op}] not supported for this dtype.")
    if status == MLXC_ERR_INDEX:
        raise IndexError(f"[{op}] index out of range.")
    if status == MLXC_ERR_NOMEM:
        raise MemoryError(f"[{op}] out of memory.")
    raise RuntimeError(f"[{op}] kernel failed with status {status}.")
