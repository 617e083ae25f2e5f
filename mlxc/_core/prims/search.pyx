"""SearchSorted: a binary search of each value in one sorted 1-D sequence (uint32 output).

The output is an integer index, so it carries no derivative (zero cotangents, zero
tangent).  vmap batches the values only: the sequence must stay unbatched, as in MLX.
"""
from mlxc._core.allocator cimport Buffer
from mlxc._core.array cimport alloc_output, array, new_node
from mlxc._core.kernels cimport MLXC_UINT32, mlxc_searchsorted
from mlxc._core.prims.index cimport contig_or_none
from mlxc._core.primitive cimport Primitive, check_status


cdef class SearchSorted(Primitive):
    def __init__(self, bint right):
        self.right = right

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array seq = <array>inputs[0]
        cdef array val = <array>inputs[1]
        cdef array out = <array>outputs[0]
        cdef int st
        cdef Buffer sb = contig_or_none(seq, seq.dtype)
        cdef Buffer vb = contig_or_none(val, val.dtype)
        cdef void *sp = seq.data() if sb is None else sb.ptr
        cdef void *vp = val.data() if vb is None else vb.ptr
        alloc_output(out)
        with nogil:
            st = mlxc_searchsorted(seq.dtype, <unsigned int *>out.data(), sp, seq.size, vp,
                                   val.size, self.right)
        return check_status(st, "searchsorted")

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(primals[a]) for a in argnums]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        from mlxc._core.prims.rulekit import zeros_cotangent
        return [zeros_cotangent(outputs[0])]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        if axes[0] >= 0:
            raise ValueError("[searchsorted] Cannot vmap over the sorted sequence, only over "
                             "the values being searched for.")
        cdef array val = <array>inputs[1]
        return [new_node(MLXC_UINT32, val._shape, SearchSorted(self.right),
                         (inputs[0], val))], [axes[1]]

    cpdef bint is_equivalent(self, Primitive other):
        return type(other) is SearchSorted and (<SearchSorted>other).right == self.right

    cpdef str name(self):
        return "SearchSorted"
